import { describe, expect, it } from 'vitest'
import { aboutInfo, aboutPanelOptions, aboutText } from '../../../src/main/desktop/about-panel'

const versions = { electron: '45.5.0', chrome: '142.0.7444.59', node: '22.20.0', v8: '14.2.231.14-electron.0' }

describe('about panel', () => {
  it('lists the app, Electron, Chromium and Node versions from the injected process.versions', () => {
    const info = aboutInfo({ appName: 'Aether Remote', appVersion: '0.1.0', versions, year: 2026 })
    expect(info.components).toEqual(['Electron 45.5.0', 'Chromium 142.0.7444.59', 'Node.js 22.20.0', 'V8 14.2.231.14-electron.0'])
    const panel = aboutPanelOptions(info)
    expect(panel.applicationName).toBe('Aether Remote')
    expect(panel.applicationVersion).toBe('0.1.0')
    expect(panel.credits).toBe('Electron 45.5.0\nChromium 142.0.7444.59\nNode.js 22.20.0\nV8 14.2.231.14-electron.0')
    expect(panel.copyright).toContain('2026')
    expect(panel.website).toMatch(/^https:\/\//)
    expect(aboutText(info)).toBe(
      'Aether Remote 0.1.0\n\nElectron 45.5.0\nChromium 142.0.7444.59\nNode.js 22.20.0\nV8 14.2.231.14-electron.0\n\n' + info.copyright
    )
  })

  it('leaves out components the runtime does not report (plain Node has no electron or chrome)', () => {
    const info = aboutInfo({ appName: 'Aether Remote', appVersion: '1.2.3', versions: { node: '20.19.0' } })
    expect(info.components).toEqual(['Node.js 20.19.0'])
    expect(aboutPanelOptions(info).version).toBe('Node.js 20.19.0')
  })
})
