import { describe, expect, it } from 'vitest'
import {
  AppHostCookieJar,
  checkCapturedToken,
  classifyCookie,
  normaliseHost,
  type CookieCaptureOutcome
} from '../../../../src/main/cf-access/sign-in/cookie-capture'
import { accessToken, APP_HOST, AUD, electronCookie, EMAIL, NOW, NOW_MS, ORG_AUD, OTHER_AUD, secretsAbsent, TEAM_DOMAIN } from './tokens'

const opts = { nowMs: NOW_MS }

function captured(outcome: CookieCaptureOutcome) {
  if (outcome.status !== 'captured') throw new Error(`expected captured, got ${JSON.stringify(outcome)}`)
  return outcome.capture
}

describe('classifyCookie', () => {
  it('takes CF_Authorization and CF_Binding set host-only on the app host', () => {
    expect(classifyCookie(electronCookie('CF_Authorization', 'x'), APP_HOST)).toEqual({ role: 'app-token' })
    expect(classifyCookie(electronCookie('CF_Binding', 'x'), APP_HOST)).toEqual({ role: 'binding' })
  })

  it('takes a Domain= cookie whose domain is the app host itself (Chromium reports it with a leading dot)', () => {
    expect(classifyCookie(electronCookie('CF_Authorization', 'x', { domain: `.${APP_HOST}` }), APP_HOST)).toEqual({ role: 'app-token' })
  })

  it('refuses a parent-domain cookie even though the browser would send it to the app host', () => {
    expect(classifyCookie(electronCookie('CF_Authorization', 'x', { domain: '.example.workers.dev' }), APP_HOST)).toEqual({ role: 'ignored', reason: 'parent-domain' })
    expect(classifyCookie(electronCookie('CF_Authorization', 'x', { domain: '.workers.dev' }), APP_HOST)).toEqual({ role: 'ignored', reason: 'parent-domain' })
  })

  it('ignores the team domain, sibling hosts and subdomains of the app host', () => {
    expect(classifyCookie(electronCookie('CF_Authorization', 'x', { domain: TEAM_DOMAIN }), APP_HOST)).toEqual({ role: 'ignored', reason: 'other-host' })
    expect(classifyCookie(electronCookie('CF_Authorization', 'x', { domain: 'other.example.workers.dev' }), APP_HOST)).toEqual({ role: 'ignored', reason: 'other-host' })
    expect(classifyCookie(electronCookie('CF_Authorization', 'x', { domain: `api.${APP_HOST}` }), APP_HOST)).toEqual({ role: 'ignored', reason: 'other-host' })
    // A look-alike that merely ends with the host's text.
    expect(classifyCookie(electronCookie('CF_Authorization', 'x', { domain: `evil${APP_HOST}` }), APP_HOST)).toEqual({ role: 'ignored', reason: 'other-host' })
  })

  it('ignores CF_AppSession and other cookies of the app host', () => {
    for (const name of ['CF_AppSession', 'CF_Session', 'CF_Device', 'cf_clearance', 'cf_authorization']) {
      expect(classifyCookie(electronCookie(name, 'x'), APP_HOST)).toEqual({ role: 'ignored', reason: 'other-name' })
    }
  })

  it('ignores cookies without Secure and empty values', () => {
    expect(classifyCookie(electronCookie('CF_Authorization', 'x', { secure: false }), APP_HOST)).toEqual({ role: 'ignored', reason: 'not-secure' })
    expect(classifyCookie(electronCookie('CF_Authorization', ' '), APP_HOST)).toEqual({ role: 'ignored', reason: 'empty' })
  })

  it('compares hosts case-insensitively, without port or trailing dot', () => {
    expect(classifyCookie(electronCookie('CF_Authorization', 'x', { domain: 'Gateway.Example.Workers.Dev.' }), `${APP_HOST.toUpperCase()}:8443`)).toEqual({ role: 'app-token' })
    expect(normaliseHost('[::1]:443')).toBe('::1')
    expect(normaliseHost('Host.Test.')).toBe('host.test')
  })
})

describe('checkCapturedToken', () => {
  it('accepts an app token with an array audience and reports email and expiry', async () => {
    const token = await accessToken()
    const capture = captured(checkCapturedToken({ token: electronCookie('CF_Authorization', token) }, { appHost: APP_HOST, expectedAud: AUD }, opts))
    expect(capture).toMatchObject({ token, email: EMAIL, expiresAtMs: (NOW + 24 * 3600) * 1000 })
    expect(capture.claims.aud).toEqual([AUD])
    expect(capture.binding).toBeUndefined()
  })

  it('accepts a plain-string audience (tokens signed by other edge components)', async () => {
    const token = await accessToken({ aud: AUD })
    expect(captured(checkCapturedToken({ token: electronCookie('CF_Authorization', token) }, { appHost: APP_HOST, expectedAud: AUD }, opts)).claims.aud).toEqual([AUD])
  })

  it('accepts an audience list that contains the AUD among others', async () => {
    const token = await accessToken({ aud: [OTHER_AUD, AUD] })
    expect(checkCapturedToken({ token: electronCookie('CF_Authorization', token) }, { appHost: APP_HOST, expectedAud: AUD }, opts).status).toBe('captured')
  })

  it('adds CF_Binding and a non-root cookie path', async () => {
    const token = await accessToken()
    const capture = captured(
      checkCapturedToken(
        { token: electronCookie('CF_Authorization', token, { path: '/admin' }), binding: electronCookie('CF_Binding', 'bind-value') },
        { appHost: APP_HOST, expectedAud: AUD },
        opts
      )
    )
    expect(capture.binding).toBe('bind-value')
    expect(capture.cookiePath).toBe('/admin')
  })

  it.each([
    ['a token of another application', { aud: [OTHER_AUD] }, 'audience'],
    ['the team-domain token (type org)', { type: 'org', aud: [ORG_AUD] }, 'type'],
    ['an org token that even carries the AUD', { type: 'org' }, 'type'],
    ['an expired token', { exp: NOW - 10, iat: NOW - 3600, nbf: NOW - 3600 }, 'expired'],
    ['a token valid only in 10 minutes', { nbf: NOW + 600, iat: NOW + 600 }, 'not-yet-valid'],
    ['a token expiring within the clock-skew margin', { exp: NOW + 30 }, 'expiring'],
    ['a token without type', { type: undefined }, 'type']
  ])('rejects %s', async (_label, claims, check) => {
    const token = await accessToken(claims)
    const outcome = checkCapturedToken({ token: electronCookie('CF_Authorization', token) }, { appHost: APP_HOST, expectedAud: AUD }, opts)
    expect(outcome.status).toBe('rejected')
    if (outcome.status !== 'rejected') return
    expect(outcome.check).toBe(check)
    expect(secretsAbsent(outcome.error, token)).toBe(true)
  })

  it('tolerates a token issued slightly in the future (within the skew)', async () => {
    const token = await accessToken({ nbf: NOW + 30, iat: NOW + 30 })
    expect(checkCapturedToken({ token: electronCookie('CF_Authorization', token) }, { appHost: APP_HOST, expectedAud: AUD }, opts).status).toBe('captured')
  })

  it('applies minValiditySec (renewal must not accept the old, expiring token)', async () => {
    const token = await accessToken({ exp: NOW + 240 })
    const target = { appHost: APP_HOST, expectedAud: AUD }
    expect(checkCapturedToken({ token: electronCookie('CF_Authorization', token) }, target, opts).status).toBe('captured')
    expect(checkCapturedToken({ token: electronCookie('CF_Authorization', token) }, target, { ...opts, minValiditySec: 300 })).toMatchObject({ status: 'rejected', check: 'expiring' })
  })

  it('rejects a value that is not a JWT', () => {
    expect(checkCapturedToken({ token: electronCookie('CF_Authorization', 'not-a-token') }, { appHost: APP_HOST, expectedAud: AUD }, opts)).toMatchObject({ status: 'rejected', check: 'malformed' })
  })

  it('waits while there is no token', () => {
    expect(checkCapturedToken({ binding: electronCookie('CF_Binding', 'b') }, { appHost: APP_HOST, expectedAud: AUD }, opts)).toEqual({ status: 'waiting' })
  })
})

describe('AppHostCookieJar', () => {
  it('follows a whole login: team-domain and CSRF cookies are ignored, the app-host token completes it', async () => {
    const jar = new AppHostCookieJar(APP_HOST)
    const orgToken = await accessToken({ type: 'org', aud: [ORG_AUD] })
    const appToken = await accessToken()
    expect(jar.observe(electronCookie('CF_AppSession', 'csrf'), 'inserted', false)).toBe(false)
    expect(jar.observe(electronCookie('CF_Session', 's', { domain: TEAM_DOMAIN }), 'inserted', false)).toBe(false)
    expect(jar.observe(electronCookie('CF_Authorization', orgToken, { domain: TEAM_DOMAIN }), 'inserted', false)).toBe(false)
    expect(jar.outcome(AUD, opts)).toEqual({ status: 'waiting' })
    expect(jar.observe(electronCookie('CF_Authorization', appToken), 'inserted', false)).toBe(true)
    expect(jar.observe(electronCookie('CF_Binding', 'bind'), 'inserted', false)).toBe(true)
    const capture = captured(jar.outcome(AUD, opts))
    expect(capture.token).toBe(appToken)
    expect(capture.binding).toBe('bind')
  })

  it('a parent-domain CF_Authorization never completes the sign-in', async () => {
    const jar = new AppHostCookieJar(APP_HOST)
    expect(jar.observe(electronCookie('CF_Authorization', await accessToken(), { domain: '.example.workers.dev' }), 'inserted', false)).toBe(false)
    expect(jar.hasToken).toBe(false)
  })

  it('forgets removed cookies and takes the value that overwrites them', async () => {
    const jar = new AppHostCookieJar(APP_HOST)
    const first = await accessToken({ exp: NOW + 3600 })
    const second = await accessToken({ exp: NOW + 7200 })
    jar.observe(electronCookie('CF_Authorization', first), 'inserted', false)
    jar.observe(electronCookie('CF_Binding', 'b1'), 'inserted', false)
    // Chromium reports an overwrite as the removal of the old cookie, then the insertion of the new one.
    expect(jar.observe(electronCookie('CF_Authorization', first), 'overwrite', true)).toBe(true)
    expect(jar.hasToken).toBe(false)
    jar.observe(electronCookie('CF_Authorization', second), 'inserted', false)
    expect(captured(jar.outcome(AUD, opts)).token).toBe(second)
    // Logout or expiry.
    jar.observe(electronCookie('CF_Binding', ''), 'explicit', true)
    expect(captured(jar.outcome(AUD, opts)).binding).toBeUndefined()
    jar.observe(electronCookie('CF_Authorization', ''), 'expired', true)
    expect(jar.outcome(AUD, opts)).toEqual({ status: 'waiting' })
  })

  it('a removal of the team-domain token or of another path leaves the app token alone', async () => {
    const jar = new AppHostCookieJar(APP_HOST)
    const token = await accessToken()
    jar.observe(electronCookie('CF_Authorization', token), 'inserted', false)
    expect(jar.observe(electronCookie('CF_Authorization', 'x', { domain: TEAM_DOMAIN }), 'explicit', true)).toBe(false)
    expect(jar.observe(electronCookie('CF_Authorization', 'x', { path: '/other' }), 'explicit', true)).toBe(false)
    expect(jar.hasToken).toBe(true)
  })

  it('reports an app-host token for another application as rejected', async () => {
    const jar = new AppHostCookieJar(APP_HOST)
    jar.observe(electronCookie('CF_Authorization', await accessToken({ aud: [OTHER_AUD] })), 'inserted', false)
    expect(jar.outcome(AUD, opts)).toMatchObject({ status: 'rejected', check: 'audience' })
  })

  it('absorbs a cookies.get() snapshot: app-host cookies only, the most specific path wins, missing ones are forgotten', async () => {
    const jar = new AppHostCookieJar(APP_HOST)
    const root = await accessToken({ exp: NOW + 3600 })
    const scoped = await accessToken({ exp: NOW + 7200 })
    jar.absorb([
      electronCookie('CF_Authorization', await accessToken({ type: 'org' }), { domain: '.example.workers.dev' }),
      electronCookie('CF_Authorization', root),
      electronCookie('CF_Authorization', scoped, { path: '/app' }),
      electronCookie('CF_AppSession', 'csrf'),
      electronCookie('CF_Binding', 'bind')
    ])
    const capture = captured(jar.outcome(AUD, opts))
    expect(capture.token).toBe(scoped)
    expect(capture.binding).toBe('bind')
    jar.absorb([])
    expect(jar.hasToken).toBe(false)
  })
})
