import { describe, expect, it } from 'vitest'
import { resolveUpdateFeed, UpdateFlow } from '../../../src/main/desktop/update-policy'

describe('update feed', () => {
  const packaged = { isPackaged: true, hasBuildFeed: false }

  it('is off without a feed', () => {
    expect(resolveUpdateFeed({ env: {}, ...packaged })).toEqual({ enabled: false, reason: 'No update feed is configured.' })
  })

  it('uses the feed written at build time (app-update.yml)', () => {
    expect(resolveUpdateFeed({ env: {}, isPackaged: true, hasBuildFeed: true })).toEqual({ enabled: true, source: 'build' })
  })

  it('prefers an https feed from AETHER_UPDATE_URL', () => {
    expect(resolveUpdateFeed({ env: { AETHER_UPDATE_URL: ' https://updates.example.com/aether ' }, isPackaged: true, hasBuildFeed: true })).toEqual({
      enabled: true,
      source: 'environment',
      url: 'https://updates.example.com/aether'
    })
  })

  it.each([
    ['plain http', 'http://updates.example.com/'],
    ['credentials in the address', 'https://user:pw@updates.example.com/'],
    ['not an address', 'updates']
  ])('refuses a feed with %s', (_what, url) => {
    expect(resolveUpdateFeed({ env: { AETHER_UPDATE_URL: url }, ...packaged }).enabled).toBe(false)
  })

  it('never checks in development or when disabled', () => {
    expect(resolveUpdateFeed({ env: {}, isPackaged: false, hasBuildFeed: true }).enabled).toBe(false)
    expect(resolveUpdateFeed({ env: { AETHER_DISABLE_UPDATES: '1' }, isPackaged: true, hasBuildFeed: true }).enabled).toBe(false)
  })
})

describe('update flow', () => {
  it('asks before downloading and again before installing', () => {
    const flow = new UpdateFlow('Aether Remote', '0.1.0')
    const offer = flow.next({ type: 'available', version: '0.2.0' })
    expect(offer).toMatchObject({ type: 'ask', prompt: { step: 'download', buttons: ['Download', 'Later'] } })
    expect(offer.type === 'ask' && offer.prompt.message).toBe('Aether Remote 0.2.0 is available.')
    expect(offer.type === 'ask' && offer.prompt.detail).toContain('0.1.0')
    const install = flow.next({ type: 'downloaded', version: '0.2.0' })
    expect(install).toMatchObject({ type: 'ask', prompt: { step: 'install', buttons: ['Restart and install', 'Later'] } })
  })

  it('offers each version once per run, stays quiet without an update, and logs errors on one line', () => {
    const flow = new UpdateFlow('Aether Remote', '0.1.0')
    flow.next({ type: 'available', version: '0.2.0' })
    expect(flow.next({ type: 'available', version: '0.2.0' })).toEqual({ type: 'none' })
    expect(flow.next({ type: 'available', version: '0.3.0' }).type).toBe('ask')
    expect(flow.next({ type: 'not-available' })).toEqual({ type: 'none' })
    expect(flow.next({ type: 'error', message: 'net::ERR_NAME_NOT_RESOLVED\n    at stack' })).toEqual({
      type: 'log',
      message: 'update check failed: net::ERR_NAME_NOT_RESOLVED'
    })
  })
})
