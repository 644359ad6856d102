/**
 * Electron main process entry. The composition root is src/main/electron/app.ts; everything
 * with logic lives in Electron-free modules tested under Node.
 */
import { startDesktopApp } from './electron/app'

startDesktopApp()
