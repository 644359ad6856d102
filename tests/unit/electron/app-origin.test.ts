import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { isAppUrl, resolveAppOrigin } from '../../../src/main/electron/app-origin'

const indexPath = path.resolve('/opt/aether/resources/app.asar/out/renderer/index.html')
const indexUrl = pathToFileURL(indexPath).href

describe('resolveAppOrigin', () => {
  it('uses the dev server only in an unpackaged app', () => {
    expect(resolveAppOrigin({ isPackaged: false, devServerUrl: 'http://localhost:5173/', rendererIndexPath: indexPath })).toEqual({
      kind: 'dev-server',
      url: 'http://localhost:5173/',
      origin: 'http://localhost:5173'
    })
    expect(resolveAppOrigin({ isPackaged: true, devServerUrl: 'http://localhost:5173/', rendererIndexPath: indexPath })).toEqual({
      kind: 'file',
      indexPath
    })
  })

  it('ignores a dev server URL that is not http(s)', () => {
    for (const devServerUrl of ['file:///tmp/index.html', 'javascript:alert(1)', 'not a url', '']) {
      expect(resolveAppOrigin({ isPackaged: false, devServerUrl, rendererIndexPath: indexPath }).kind).toBe('file')
    }
  })
})

describe('isAppUrl', () => {
  const fileOrigin = resolveAppOrigin({ isPackaged: true, devServerUrl: undefined, rendererIndexPath: indexPath })
  const devOrigin = resolveAppOrigin({ isPackaged: false, devServerUrl: 'http://localhost:5173', rendererIndexPath: indexPath })

  it('accepts the renderer index.html, with or without query and hash', () => {
    expect(isAppUrl(fileOrigin, indexUrl)).toBe(true)
    expect(isAppUrl(fileOrigin, `${indexUrl}?x=1#/profiles`)).toBe(true)
  })

  it.each([
    ['another local file', 'file:///etc/passwd'],
    ['a sibling of index.html', pathToFileURL(path.join(path.dirname(indexPath), 'evil.html')).href],
    ['a file in a parent folder', pathToFileURL(path.resolve(path.dirname(indexPath), '..', 'index.html')).href],
    ['a dot-segment escape', `${pathToFileURL(path.dirname(indexPath)).href}/../../evil/index.html`],
    ['an encoded-separator trick', `${pathToFileURL(path.dirname(indexPath)).href}%2Findex.html`],
    ['a UNC share', `file://evil-host${pathToFileURL(indexPath).pathname}`],
    ['a web origin', 'https://evil.example/index.html'],
    ['the dev server', 'http://localhost:5173/'],
    ['garbage', 'not a url'],
    ['about:blank', 'about:blank']
  ])('refuses %s in production', (_what, url) => {
    expect(isAppUrl(fileOrigin, url)).toBe(false)
  })

  it('accepts the dev server origin on any path, and nothing else', () => {
    expect(isAppUrl(devOrigin, 'http://localhost:5173/')).toBe(true)
    expect(isAppUrl(devOrigin, 'http://localhost:5173/src/main.tsx?t=1')).toBe(true)
    for (const url of [
      'http://localhost:5174/',
      'https://localhost:5173/',
      'http://localhost:5173.evil.example/',
      'http://evil.example/?http://localhost:5173',
      'http://user@evil.example:5173/',
      indexUrl
    ]) {
      expect(isAppUrl(devOrigin, url)).toBe(false)
    }
  })
})
