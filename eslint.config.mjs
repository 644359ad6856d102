import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

// Process boundaries are folders: the shared code, the engine (everything in src/main except
// the Electron glue in src/main/electron) and the CLI never import Electron.
const noElectron = {
  'no-restricted-imports': [
    'error',
    {
      paths: [{ name: 'electron', message: 'Only src/main/electron and src/preload may import electron.' }],
      patterns: [{ group: ['electron/*'], message: 'Only src/main/electron and src/preload may import electron.' }]
    }
  ]
}

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
    }
  },
  {
    files: ['src/shared/**/*.ts', 'src/main/**/*.ts', 'src/cli/**/*.ts'],
    ignores: ['src/main/electron/**', 'src/main/index.ts'],
    rules: noElectron
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'src/shared is imported by the renderer: no Electron.' }],
          patterns: [{ group: ['node:*', 'electron/*'], message: 'src/shared is imported by the renderer: no Node or Electron.' }]
        }
      ]
    }
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } }
  }
)
