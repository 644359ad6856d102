import { defineConfig } from 'vitest/config'

// Three projects: fast unit tests (fakes allowed, no services), the integration suite, which
// runs against real components: a real OpenClaw gateway behind the Cloudflare Access emulator,
// and a real Secret Service keychain (see scripts/with-keyring.sh), and the renderer's UI tests.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 15_000
        }
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          // One real gateway is shared; files run one after another so they never race on it.
          fileParallelism: false,
          // Real browsers, a real gateway and the packaging build share the machine: a window
          // closing or a state arriving can take seconds on a busy CI runner. expect.poll returns
          // as soon as the condition holds, so a longer limit only slows a test that fails anyway.
          expect: { poll: { timeout: 15_000 } }
        }
      },
      {
        // The installers: electron-builder's Linux directory build against a stand-in Electron
        // folder, and the whole packaging configuration.
        test: {
          name: 'packaging',
          include: ['tests/packaging/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000
        }
      },
      {
        // The window's UI: React components and stores in a DOM (happy-dom), against an
        // in-memory fake of window.api.
        test: {
          name: 'renderer',
          include: ['tests/renderer/**/*.test.tsx'],
          environment: 'happy-dom',
          setupFiles: ['tests/renderer/setup.ts'],
          testTimeout: 15_000
        }
      }
    ]
  }
})
