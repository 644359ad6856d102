/** The shape of `window.api`, shared by the preload (which builds it) and the renderer. */
export interface AetherApi {
  app: { version(): string }
}
