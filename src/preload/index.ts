/**
 * Preload: the renderer's only door to the main process, `window.api`, built from the IPC
 * contract (src/shared/ipc-contract.ts). Nothing generic (no raw invoke/on, no ipcRenderer) is
 * exposed (Electron security checklist #20). It runs sandboxed, so it is bundled into one CJS
 * file that requires nothing but `electron`.
 */
import { contextBridge, ipcRenderer } from 'electron'
import { buildApi } from '../shared/ipc-contract'
import { createIpcTransport } from './ipc-transport'

contextBridge.exposeInMainWorld('api', buildApi(createIpcTransport(ipcRenderer)))
