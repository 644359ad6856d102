import { describe, expect, it, vi } from 'vitest'
import { isAppUrl, resolveAppOrigin } from '../../../src/main/electron/app-origin'
import { createServicesOpenExternal, externalUrlToOpen, openExternalSafely } from '../../../src/main/electron/external-links'
import { denyAllPermissions } from '../../../src/main/electron/permissions'
import { guardWebContents, type GuardedWebContents, type NavigationEvent } from '../../../src/main/electron/web-contents-guards'
import { RENDERER_INDEX, RENDERER_URL } from './stand-ins'

const REFUSED_EXTERNAL = [
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'file:///etc/passwd',
  'file://server/share/run.exe',
  'http://example.com/',
  'http://user:pass@example.com/',
  'https://user:pass@example.com/',
  'https://trusted.example@evil.example/',
  'data:text/html,<script>alert(1)</script>',
  'aether://open',
  'vscode://file/etc/passwd',
  'ms-settings:',
  'smb://host/share',
  'chrome://settings',
  '//example.com/',
  'example.com',
  'not a url',
  '',
  `https://example.com/${'a'.repeat(5000)}`
]

describe('externalUrlToOpen', () => {
  it('re-serialises https and mailto URLs through the parser', () => {
    expect(externalUrlToOpen('https://example.com')).toBe('https://example.com/')
    expect(externalUrlToOpen('HTTPS://Docs.Example.COM/a b?q=1#x')).toBe('https://docs.example.com/a%20b?q=1#x')
    expect(externalUrlToOpen('https://exa\nmple.com/\tpath')).toBe('https://example.com/path')
    expect(externalUrlToOpen('mailto:support@example.com?subject=Hi there')).toBe('mailto:support@example.com?subject=Hi%20there')
  })

  it.each(REFUSED_EXTERNAL)('refuses %s', (url) => {
    expect(externalUrlToOpen(url)).toBeNull()
  })

  it('refuses what is not a string', () => {
    for (const value of [undefined, null, 42, {}, ['https://example.com']]) expect(externalUrlToOpen(value)).toBeNull()
  })
})

describe('openExternalSafely', () => {
  it('hands only the re-serialised URL to the shell', async () => {
    const shell = { openExternal: vi.fn(async () => undefined) }
    expect(await openExternalSafely(shell, 'https://Example.com/a b')).toBe(true)
    expect(shell.openExternal).toHaveBeenCalledWith('https://example.com/a%20b')
    for (const url of REFUSED_EXTERNAL) expect(await openExternalSafely(shell, url)).toBe(false)
    expect(shell.openExternal).toHaveBeenCalledTimes(1)
  })

  it('answers false when the OS fails', async () => {
    const shell = { openExternal: vi.fn(async () => Promise.reject(new Error('no handler'))) }
    expect(await openExternalSafely(shell, 'https://example.com/')).toBe(false)
  })
})

describe('createServicesOpenExternal', () => {
  it('opens allowed URLs and rejects the rest without touching the shell', async () => {
    const shell = { openExternal: vi.fn(async () => undefined) }
    const open = createServicesOpenExternal(shell)
    await open('mailto:a@example.com')
    expect(shell.openExternal).toHaveBeenCalledWith('mailto:a@example.com')
    await expect(open('javascript:alert(1)')).rejects.toThrow(/https and mailto/)
    await expect(open('file:///etc/passwd')).rejects.toThrow()
    expect(shell.openExternal).toHaveBeenCalledTimes(1)
  })
})

/** A webContents stand-in that keeps the handlers the guards install. */
function guardedContents() {
  const listeners = new Map<string, ((event: NavigationEvent) => void)[]>()
  let windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined
  const contents = {
    setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
      windowOpenHandler = handler
    },
    on(event: string, listener: (event: NavigationEvent) => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener])
      return contents
    }
  }
  return {
    contents: contents as unknown as GuardedWebContents,
    openWindow: (url: string) => windowOpenHandler?.({ url }),
    /** Emit a navigation-type event; true when a listener prevented it. */
    fire(event: string, url: string): boolean {
      let prevented = false
      for (const l of listeners.get(event) ?? []) l({ url, preventDefault: () => (prevented = true) })
      return prevented
    },
    listenerCount: (event: string) => listeners.get(event)?.length ?? 0
  }
}

describe('guardWebContents', () => {
  const appOrigin = resolveAppOrigin({ isPackaged: true, devServerUrl: undefined, rendererIndexPath: RENDERER_INDEX })

  function install() {
    const shell = { openExternal: vi.fn(async () => undefined) }
    const g = guardedContents()
    guardWebContents(g.contents, { isAppUrl: (url) => isAppUrl(appOrigin, url), openExternal: (url) => openExternalSafely(shell, url) })
    return { ...g, shell }
  }

  it('denies every new window, passing only https and mailto on to the system', async () => {
    const { openWindow, shell } = install()
    expect(openWindow('https://docs.example.com/guide')).toEqual({ action: 'deny' })
    expect(openWindow('mailto:help@example.com')).toEqual({ action: 'deny' })
    for (const url of REFUSED_EXTERNAL) expect(openWindow(url)).toEqual({ action: 'deny' })
    expect(openWindow(RENDERER_URL)).toEqual({ action: 'deny' })
    await new Promise((r) => setTimeout(r, 0))
    expect(shell.openExternal.mock.calls).toEqual([['https://docs.example.com/guide'], ['mailto:help@example.com']])
  })

  it.each(['will-navigate', 'will-frame-navigate', 'will-redirect'])('%s: stays on the app page, blocks everything else', (event) => {
    const { fire, shell } = install()
    expect(fire(event, RENDERER_URL)).toBe(false)
    expect(fire(event, `${RENDERER_URL}#/settings`)).toBe(false)
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'http://localhost:5173/', 'javascript:alert(1)', 'about:blank']) {
      expect(fire(event, url)).toBe(true)
    }
    // Blocked navigations are not turned into external opens.
    expect(shell.openExternal).not.toHaveBeenCalled()
  })

  it('refuses to attach webviews', () => {
    const { fire, listenerCount } = install()
    expect(listenerCount('will-attach-webview')).toBe(1)
    expect(fire('will-attach-webview', RENDERER_URL)).toBe(true)
  })
})

describe('denyAllPermissions', () => {
  it('denies every permission request and check', () => {
    let request: ((wc: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined
    let check: ((wc: unknown, permission: string) => boolean) | undefined
    denyAllPermissions({
      setPermissionRequestHandler: (h) => (request = h),
      setPermissionCheckHandler: (h) => (check = h)
    })
    for (const permission of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal', 'hid', 'fullscreen']) {
      const callback = vi.fn()
      request?.({}, permission, callback)
      expect(callback).toHaveBeenCalledWith(false)
      expect(check?.({}, permission)).toBe(false)
    }
  })
})
