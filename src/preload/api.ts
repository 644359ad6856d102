/**
 * The shape of `window.api`, shared by the preload (which builds it) and the renderer. It is
 * the contract's AetherApi; this re-export keeps `index.d.ts` independent of the contract's path.
 */
export type { AetherApi } from '../shared/ipc-contract'
