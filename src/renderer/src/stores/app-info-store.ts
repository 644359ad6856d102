/** What the main process says about itself (version, where secrets are kept). */
import { create } from 'zustand'
import type { AppInfo } from '../../../shared/ipc-contract'
import type { AppError } from '../../../shared/errors'

export interface AppInfoState {
  info?: AppInfo
  error?: AppError
}

export const useAppInfo = create<AppInfoState>()(() => ({}))
