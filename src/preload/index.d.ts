import type { AetherApi } from './api'

declare global {
  interface Window {
    api: AetherApi
  }
}
export {}
