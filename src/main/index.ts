/**
 * Electron main process entry (composition root).
 *
 * Kept thin on purpose: Electron cannot run on the build machine, so everything with logic
 * lives in Electron-free modules (src/main/gateway, cf-access, transport, secrets, profiles)
 * that are tested under Node; this file only wires windows.
 */
import { startDesktopApp } from './electron/app'

startDesktopApp()
