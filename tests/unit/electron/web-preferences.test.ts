import { describe, expect, it } from 'vitest'
import { appWindowPreferences } from '../../../src/main/electron/web-preferences'

describe('appWindowPreferences', () => {
  it('runs the app window sandboxed, isolated and without Node', () => {
    const prefs = appWindowPreferences('/app/out/preload/index.js')
    expect(prefs).toMatchObject({
      preload: '/app/out/preload/index.js',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webviewTag: false
    })
  })

  it('turns none of the unsafe switches on', () => {
    const prefs = appWindowPreferences('/p.js')
    expect(prefs.nodeIntegrationInWorker).not.toBe(true)
    expect(prefs.nodeIntegrationInSubFrames).not.toBe(true)
    expect(prefs.webSecurity).not.toBe(false)
    expect(prefs.allowRunningInsecureContent).not.toBe(true)
    expect(prefs.experimentalFeatures).not.toBe(true)
    expect(prefs.enableBlinkFeatures).toBeUndefined()
  })
})
