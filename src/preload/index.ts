/**
 * Preload: the renderer's only door to the main process, exposed as a small `window.api`.
 * The desktop views' IPC contract grows here; nothing generic (no raw invoke/on) is exposed.
 */
import { contextBridge } from 'electron'
import type { AetherApi } from './api'
import { APP_VERSION } from '../shared/app-info'

const api: AetherApi = {
  app: { version: () => APP_VERSION }
}

contextBridge.exposeInMainWorld('api', api)
