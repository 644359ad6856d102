/**
 * Guards applied to every webContents the app creates (from `app.on('web-contents-created')`,
 * so no window, however it came to exist, is missed).
 *
 * - Electron security checklist #14 ("disable or limit creation of new windows"): every
 *   `window.open` and `target=_blank` is denied; https and mailto links go to the system
 *   browser or mail client instead, through the safe opener (#15).
 * - #13 ("disable or limit navigation"): the app window never leaves the app's own page.
 *   `will-navigate` covers link clicks and `location` changes in the main frame,
 *   `will-frame-navigate` the same in subframes, and `will-redirect` a server redirect of a
 *   navigation that was allowed to start.
 * - #12 ("verify WebView options before creation"): the app has no `<webview>`, so attaching
 *   one is always refused (webviewTag is off as well; this catches a page that turns it on).
 */

/** A navigation about to happen; Electron's navigation events satisfy it. */
export interface NavigationEvent {
  readonly url: string
  preventDefault(): void
}

/** The part of a webContents the guards use. */
export interface GuardedWebContents {
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void
  on(event: 'will-navigate', listener: (event: NavigationEvent) => void): unknown
  on(event: 'will-frame-navigate', listener: (event: NavigationEvent) => void): unknown
  on(event: 'will-redirect', listener: (event: NavigationEvent) => void): unknown
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown
}

export interface WebContentsGuardOptions {
  /** True for the app's own page (see app-origin.ts). */
  isAppUrl(url: string): boolean
  /** Opens a link outside the app; must apply the https/mailto rule itself (openExternalSafely). */
  openExternal(url: string): unknown
}

/** Install the window-open, navigation and webview guards on `contents`. */
export function guardWebContents(contents: GuardedWebContents, opts: WebContentsGuardOptions): void {
  contents.setWindowOpenHandler(({ url }) => {
    void opts.openExternal(url)
    return { action: 'deny' }
  })
  const stayInApp = (event: NavigationEvent): void => {
    if (!opts.isAppUrl(event.url)) event.preventDefault()
  }
  contents.on('will-navigate', stayInApp)
  contents.on('will-frame-navigate', stayInApp)
  contents.on('will-redirect', stayInApp)
  contents.on('will-attach-webview', (event) => event.preventDefault())
}
