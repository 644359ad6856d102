/**
 * Which renderers may talk to the main process.
 *
 * Electron security checklist #17 ("validate the sender of all IPC messages"): an IPC message
 * is honoured only when it comes from the main frame of one of the app's own windows, showing
 * the app's own page. Any other frame (an iframe, a window that somehow navigated away, a
 * webContents the app did not create) gets an error value and never reaches a handler.
 */

/** The part of a webContents the registry needs; Electron's WebContents satisfies it. */
export interface TrustableWebContents {
  readonly id: number
  once(event: 'destroyed', listener: () => void): unknown
}

/** The part of an IPC event the sender check reads; Electron's IpcMainInvokeEvent satisfies it. */
export interface IpcSenderEvent {
  readonly sender: { readonly id: number }
  readonly senderFrame: { readonly parent: unknown; readonly url: string; readonly detached?: boolean } | null
}

/** Ids of the webContents of the app's own windows; an id leaves the set when its contents are destroyed. */
export class TrustedSenders {
  private readonly ids = new Set<number>()

  /** Trust `contents` until it is destroyed. */
  trust(contents: TrustableWebContents): void {
    // Read the id now: a destroyed webContents' properties can no longer be read.
    const id = contents.id
    this.ids.add(id)
    contents.once('destroyed', () => this.ids.delete(id))
  }

  has(id: number): boolean {
    return this.ids.has(id)
  }
}

/**
 * Build the check every IPC request passes before its handler runs.
 *
 * The frame is checked, not only the webContents: `senderFrame` is null once the frame has
 * navigated or gone, has a parent when it is an iframe, and its URL tells whether it still shows
 * the app (VS Code's `validatedIpcMain` does the same).
 */
export function createSenderCheck(
  trusted: Pick<TrustedSenders, 'has'>,
  isAppUrl: (url: string) => boolean
): (event: IpcSenderEvent) => boolean {
  return (event) => {
    if (!trusted.has(event.sender.id)) return false
    const frame = event.senderFrame
    if (!frame || frame.detached === true) return false
    if (frame.parent !== null) return false
    return isAppUrl(frame.url)
  }
}
