// `npm start`, first step: make sure Electron's own binary is there. The electron package fetches
// it on first use; when that download fails (no network, a proxy), its own report is two stack
// traces. This fetches it the same way and, on failure, says in a few lines what happened and
// what to do. With the binary present it does nothing.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

// The package folder can be given (tests); normally it is the installed electron package.
const packageDir = process.env.AETHER_ELECTRON_PACKAGE_DIR ?? dirname(createRequire(import.meta.url).resolve('electron/package.json'))

function binaryPresent() {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) return true
  const pathFile = join(packageDir, 'path.txt')
  if (!existsSync(pathFile)) return false
  return existsSync(join(packageDir, 'dist', readFileSync(pathFile, 'utf8').trim()))
}

/** The one line of a failed download that says why: the error's own line, not its stack. */
function reasonOf(output) {
  const lines = output.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !/^at\s/.test(l))
  const error = lines.find((l) => /^[A-Za-z]*Error\b/.test(l)) ?? lines[0] ?? 'no reason given'
  return error.length > 200 ? `${error.slice(0, 199)}…` : error
}

if (!binaryPresent() && process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  // Set for installs that must not download (CI); the app cannot open without the binary.
  console.error('The Electron binary is not installed, and ELECTRON_SKIP_BINARY_DOWNLOAD is set, so it is not fetched: unset it and run npm start again.')
  process.exit(1)
}

if (!binaryPresent()) {
  console.log('Fetching the Electron binary (needed once, on the first start)…')
  const result = spawnSync(process.execPath, [join(packageDir, 'install.js')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  if (result.status !== 0 || !binaryPresent()) {
    console.error(
      [
        `Could not fetch the Electron binary: ${reasonOf(`${result.stderr ?? ''}\n${result.stdout ?? ''}`)}`,
        'The first start downloads it from GitHub. Check the internet connection; behind a proxy set',
        'ELECTRON_GET_USE_PROXY=1 with HTTPS_PROXY, or point ELECTRON_MIRROR at a mirror. Then run npm start again.'
      ].join('\n')
    )
    process.exit(1)
  }
}
