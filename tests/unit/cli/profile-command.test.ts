import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { memoryStoreWarning } from '../../../src/cli/context'
import { runConnect } from '../../../src/cli/commands/connect'
import { runProfile } from '../../../src/cli/commands/profile'
import type { ProfileArgs } from '../../../src/cli/args'
import { secretKeys } from '../../../src/main/secrets/secret-store'
import { appError } from '../../../src/shared/errors'
import { harness, profilesFile } from './helpers'

const ID = '0123456789abcdef0123456789abcdef.access'
const SECRET = 'a'.repeat(64)
// readCaFile only checks for a PEM block; profile add never parses the certificate.
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2Vy\n-----END CERTIFICATE-----\n'

const add = (over: Partial<ProfileArgs> = {}): ProfileArgs => ({ command: 'profile', action: 'add', name: 'edge', url: 'wss://gw.example.com', json: false, ...over })
const act = (action: ProfileArgs['action'], name?: string, json = false): ProfileArgs => ({ command: 'profile', action, ...(name ? { name } : {}), json })

async function appToken(expSecFromNow: number, aud = 'f0'.repeat(32)): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256')
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ aud: [aud], exp: now + expSecFromNow, iat: now - 60, type: 'app', email: 'op@example.com' })
    .setProtectedHeader({ alg: 'RS256', kid: 'ab'.repeat(32) })
    .sign(privateKey)
}

function savedProfiles(configDir: string): { name: string; url: string; sessionKey: string; access: Record<string, unknown>; options: Record<string, unknown> }[] {
  return (JSON.parse(readFileSync(profilesFile(configDir), 'utf8')) as { profiles: never[] }).profiles
}

describe('problems with the profiles file are told, not swallowed', () => {
  it('a corrupt file: list, show, add and connect --profile say where it was moved', async () => {
    for (const run of [
      (h: ReturnType<typeof harness>) => runProfile(act('list'), h.ctx),
      (h: ReturnType<typeof harness>) => runProfile(act('show', 'edge'), h.ctx),
      (h: ReturnType<typeof harness>) => runProfile(add(), h.ctx),
      (h: ReturnType<typeof harness>) => runConnect({ command: 'connect', profile: 'edge', json: false, replyTimeoutSec: 5, waitPairing: false }, h.ctx)
    ]) {
      const h = harness()
      writeFileSync(profilesFile(h.configDir), '{ this is not json')
      await run(h)
      const moved = readdirSync(h.configDir).find((f) => f.startsWith('profiles.json.corrupt-'))
      expect(moved).toBeDefined()
      expect(h.stderr()).toContain('warning: Saved gateways could not be read')
      expect(h.stderr()).toContain(join(h.configDir, moved!))
    }
  })

  it('a file from a newer version: an "update Aether Remote" error, exit 1, file untouched', async () => {
    const newer = JSON.stringify({ schemaVersion: 99, profiles: [] })
    for (const args of [act('list'), act('show', 'edge'), act('remove', 'edge'), add()]) {
      const h = harness()
      writeFileSync(profilesFile(h.configDir), newer)
      const code = await runProfile(args, h.ctx)
      expect(code).toBe(1)
      expect(h.stderr()).toContain('error: Saved gateways need a newer Aether Remote')
      expect(h.stderr()).toMatch(/Update Aether Remote/)
      expect(h.stderr()).not.toContain('Unexpected error')
      expect(h.stdout()).not.toContain('No saved profiles')
      expect(readFileSync(profilesFile(h.configDir), 'utf8')).toBe(newer)
    }
    const h = harness()
    writeFileSync(profilesFile(h.configDir), newer)
    const code = await runConnect({ command: 'connect', profile: 'edge', json: false, replyTimeoutSec: 5, waitPairing: false }, h.ctx)
    expect(code).toBe(1)
    expect(h.stderr()).toContain('Saved gateways need a newer Aether Remote')
  })

  it('in JSON mode the moved-aside file is a warning line', async () => {
    const h = harness({ json: true })
    writeFileSync(profilesFile(h.configDir), '[]')
    expect(await runProfile(act('list', undefined, true), h.ctx)).toBe(0)
    const warning = h.lines().find((l) => l.type === 'warning')
    expect(warning?.message).toMatch(/moved aside to .*profiles\.json\.corrupt-/)
  })
})

describe('without a keychain', () => {
  it('profile add says the secrets are kept in memory only, never "Stored in the keychain"', async () => {
    const h = harness({ keychain: false, env: { AETHER_GATEWAY_TOKEN: 'gateway-token-123456' } })
    expect(await runProfile(add(), h.ctx)).toBe(0)
    expect(h.stdout()).not.toContain('Stored in the keychain')
    expect(h.stdout()).toContain('Kept in memory only for this run (no keychain): gateway token.')
  })
  it('the warning is one short line, printed once', async () => {
    const h = harness({ keychain: false, env: { AETHER_GATEWAY_TOKEN: 'gateway-token-123456' } })
    await runProfile(add(), h.ctx)
    const warnings = h.stderr().split('\n').filter((l) => l.startsWith('warning:'))
    expect(warnings).toEqual([
      "warning: No keychain available (no D-Bus session bus): secrets and this device's identity are kept in memory for this run only."
    ])
  })
  it('for connect it adds what that means for pairing', () => {
    const w = appError('KEYCHAIN_UNAVAILABLE', 't', 'long', { details: { check: 'locked' } })
    expect(memoryStoreWarning(w, { connect: true })).toBe(
      "No keychain available (the keyring is locked): secrets and this device's identity are kept in memory for this run only. The gateway will see a new device each run; use --wait-pairing to approve it in one go."
    )
    expect(memoryStoreWarning(w, { connect: true, waitPairing: true })).not.toContain('--wait-pairing')
  })
  it('profile add without secrets and profile list never open the keychain (no warning)', async () => {
    const h = harness({ keychain: false })
    await runProfile(add(), h.ctx)
    await runProfile(act('list'), h.ctx)
    expect(h.stderr()).not.toContain('keychain')
  })
  it('in JSON mode the saved event does not claim the secrets were stored', async () => {
    const h = harness({ json: true, keychain: false, env: { AETHER_GATEWAY_TOKEN: 'gateway-token-123456' } })
    await runProfile({ ...add(), json: true }, h.ctx)
    expect(h.lines().find((l) => l.type === 'saved')).toMatchObject({ storedSecrets: [], memoryOnlySecrets: ['gateway token'] })
  })
  it('with a keychain it still says where they went', async () => {
    const h = harness({ env: { AETHER_GATEWAY_TOKEN: 'gateway-token-123456' } })
    await runProfile(add(), h.ctx)
    expect(h.stdout()).toContain('Stored in the keychain: gateway token.')
  })
})

describe('profile add --ca-file', () => {
  it('resolves a relative path against where the command was run (INIT_CWD) and stores it absolute', async () => {
    const where = mkdtempSync(join(tmpdir(), 'aether-ca-'))
    mkdirSync(join(where, 'certs'))
    writeFileSync(join(where, 'certs', 'ca.pem'), PEM)
    const h = harness({ env: { INIT_CWD: where } })
    expect(await runProfile(add({ caFile: 'certs/ca.pem' }), h.ctx)).toBe(0)
    expect(savedProfiles(h.configDir)[0]!.options.caFile).toBe(join(where, 'certs', 'ca.pem'))
  })
  it('refuses a file that does not exist (exit 2), saving nothing', async () => {
    const h = harness({ env: { INIT_CWD: tmpdir() } })
    expect(await runProfile(add({ caFile: 'no-such-ca.pem' }), h.ctx)).toBe(2)
    expect(h.stderr()).toContain(`There is no file at ${join(tmpdir(), 'no-such-ca.pem')}`)
    expect(existsSync(profilesFile(h.configDir))).toBe(false)
  })
  it('refuses a file without a PEM certificate (exit 2)', async () => {
    const where = mkdtempSync(join(tmpdir(), 'aether-ca-'))
    writeFileSync(join(where, 'key.txt'), 'not a certificate')
    const h = harness({ env: { INIT_CWD: where } })
    expect(await runProfile(add({ caFile: 'key.txt' }), h.ctx)).toBe(2)
    expect(h.stderr()).toContain('The CA file holds no certificate')
  })
  it('warns that a CA file does nothing for ws://', async () => {
    const where = mkdtempSync(join(tmpdir(), 'aether-ca-'))
    writeFileSync(join(where, 'ca.pem'), PEM)
    const h = harness({ env: { INIT_CWD: where } })
    expect(await runProfile(add({ url: 'ws://127.0.0.1:18789', caFile: 'ca.pem' }), h.ctx)).toBe(0)
    expect(h.stderr()).toMatch(/warning: The CA file only applies to wss:\/\/ addresses/)
  })
})

describe('profile add: Access credentials are checked', () => {
  it('--access service-token without a Client ID is refused (exit 2)', async () => {
    const h = harness({ env: { AETHER_CF_CLIENT_SECRET: SECRET } })
    expect(await runProfile(add({ access: 'service-token' }), h.ctx)).toBe(2)
    expect(h.stderr()).toMatch(/needs the service token\u2019s Client ID/)
    expect(existsSync(profilesFile(h.configDir))).toBe(false)
  })
  it('a malformed app token is refused before it is stored', async () => {
    const h = harness({ env: { AETHER_CF_APP_TOKEN: 'not-a-jwt' } })
    expect(await runProfile(add({ access: 'email-otp' }), h.ctx)).not.toBe(0)
    expect(h.stderr()).toContain('ACCESS_APP_TOKEN_INVALID')
    expect(await h.store.get(secretKeys.cfAppToken('x'))).toBeNull()
    expect(existsSync(profilesFile(h.configDir))).toBe(false)
  })
  it('an expired app token is refused', async () => {
    const h = harness({ env: { AETHER_CF_APP_TOKEN: await appToken(-3600) } })
    expect(await runProfile(add(), h.ctx)).not.toBe(0)
    expect(h.stderr()).toContain('ACCESS_APP_TOKEN_EXPIRED')
  })
  it('an app token with a line break inside is refused as bad input (exit 2)', async () => {
    const token = await appToken(3600)
    const h = harness({ env: { AETHER_CF_APP_TOKEN: `${token.slice(0, 20)}\n${token.slice(20)}` } })
    expect(await runProfile(add(), h.ctx)).toBe(2)
    expect(h.stderr()).toContain('contains characters a token cannot have')
  })
  it('a good app token is stored without the pasted cookie prefix', async () => {
    const token = await appToken(3600)
    const h = harness({ env: { AETHER_CF_APP_TOKEN: `CF_Authorization=${token}` } })
    expect(await runProfile(add(), h.ctx)).toBe(0)
    const [p] = savedProfiles(h.configDir) as unknown as { id: string; access: { mode: string } }[]
    expect(p!.access.mode).toBe('email-otp')
    expect(await h.store.get(secretKeys.cfAppToken(p!.id))).toBe(token)
  })
})

describe('profile add with the name of a saved profile', () => {
  it('updates it, keeping every field not given, and says "Updated"', async () => {
    const where = mkdtempSync(join(tmpdir(), 'aether-ca-'))
    writeFileSync(join(where, 'ca.pem'), PEM)
    const h = harness({ env: { INIT_CWD: where, AETHER_CF_CLIENT_ID: ID } })
    await runProfile(add({ session: 'agent:main:desk', access: 'service-token', caFile: 'ca.pem', timeoutSec: 20 }), h.ctx)
    const before = savedProfiles(h.configDir)[0]!

    const again = harness({ configDir: h.configDir })
    expect(await runProfile(add({ url: undefined, name: 'EDGE', session: 'agent:main:other' }), again.ctx)).toBe(0)
    expect(again.stdout()).toMatch(/^Updated profile/)
    const after = savedProfiles(h.configDir)
    expect(after).toHaveLength(1)
    expect(after[0]).toMatchObject({
      url: before.url,
      sessionKey: 'agent:main:other',
      access: { mode: 'service-token', clientId: ID },
      options: { caFile: join(where, 'ca.pem'), connectTimeoutMs: 20_000 }
    })
  })
  it('a new profile still needs --url', async () => {
    const h = harness()
    expect(await runProfile(add({ url: undefined }), h.ctx)).toBe(2)
    expect(h.stderr()).toContain('profile add needs --url')
  })
})
