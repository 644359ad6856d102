import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { ProfileRepo, ProfileRepoError, type ProfileFileWarning } from '../../../src/main/profiles/profile-repo'
import { DEFAULT_SESSION_KEY } from '../../../src/shared/profile'

let dir: string
let file: string

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'aether-profiles-'))
  // A not-yet-existing nested folder, so the repo has to create it.
  file = path.join(dir, 'cfg', 'nested', 'profiles.json')
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function mustSave(repo: ProfileRepo, input: Parameters<ProfileRepo['save']>[0]) {
  const r = await repo.save(input)
  if (!r.ok) throw new Error(`save failed: ${r.error.message}`)
  return r.value
}

async function readJson(): Promise<{ schemaVersion: number; profiles: Array<Record<string, unknown>> }> {
  return JSON.parse(await readFile(file, 'utf8')) as { schemaVersion: number; profiles: Array<Record<string, unknown>> }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('ProfileRepo basics', () => {
  it('treats a missing file as an empty list and does not create it by reading', async () => {
    const repo = new ProfileRepo(file)
    expect(await repo.list()).toEqual([])
    expect(await repo.load()).toEqual({ profiles: [], warnings: [] })
    expect(await repo.get('anything')).toBeNull()
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('creates a profile with a uuid, timestamps, defaults and trimmed fields', async () => {
    const now = new Date('2026-12-03T10:00:00.000Z')
    const repo = new ProfileRepo(file, { now: () => now })
    const p = await mustSave(repo, {
      name: '  Home lab ',
      url: ' wss://gw.example.com/ws ',
      access: { mode: 'service-token', clientId: ' 0123456789abcdef.access ' }
    })
    expect(p.id).toMatch(UUID)
    expect(p).toEqual({
      id: p.id,
      name: 'Home lab',
      url: 'wss://gw.example.com/ws',
      sessionKey: DEFAULT_SESSION_KEY,
      access: { mode: 'service-token', clientId: '0123456789abcdef.access' },
      options: {},
      createdAt: now.toISOString(),
      updatedAt: now.toISOString()
    })
    expect(await repo.list()).toEqual([p])
    const json = await readJson()
    expect(json).toEqual({ schemaVersion: 1, profiles: [p] })
    // A fresh repo on the same file sees the same data.
    expect(await new ProfileRepo(file).list()).toEqual([p])
  })

  it('writes the file 0600 in a 0700 directory and leaves no temp files', async () => {
    const repo = new ProfileRepo(file)
    for (let i = 0; i < 5; i++) await mustSave(repo, { name: `gw ${i}`, url: 'wss://gw.example.com' })
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700)
    expect(await readdir(path.dirname(file))).toEqual(['profiles.json'])
  })

  it('updates by id, keeping createdAt and moving updatedAt', async () => {
    let t = Date.parse('2026-01-01T00:00:00.000Z')
    const repo = new ProfileRepo(file, { now: () => new Date(t) })
    const created = await mustSave(repo, { name: 'A', url: 'wss://a.example.com' })
    t += 60_000
    const updated = await mustSave(repo, {
      ...created,
      name: 'A renamed',
      url: 'wss://a2.example.com',
      options: { connectTimeoutMs: 30_000, caFile: '/etc/ssl/private-ca.pem' }
    })
    expect(updated.id).toBe(created.id)
    expect(updated.createdAt).toBe(created.createdAt)
    expect(updated.updatedAt).toBe(new Date(t).toISOString())
    expect(updated.options).toEqual({ connectTimeoutMs: 30_000, caFile: '/etc/ssl/private-ca.pem' })
    expect(await repo.list()).toEqual([updated])
  })

  it('ignores timestamps sent by the caller', async () => {
    const repo = new ProfileRepo(file, { now: () => new Date('2026-05-05T05:05:05.000Z') })
    const p = await mustSave(repo, { name: 'A', url: 'wss://a.example.com', createdAt: '1999-01-01T00:00:00.000Z' })
    expect(p.createdAt).toBe('2026-05-05T05:05:05.000Z')
  })

  it('returns PROFILE_NOT_FOUND for an update of an unknown id', async () => {
    const r = await new ProfileRepo(file).save({ id: 'nope', name: 'A', url: 'wss://a.example.com' })
    expect(!r.ok && r.error.code).toBe('PROFILE_NOT_FOUND')
  })

  it('gets by id, or by name ignoring case and surrounding spaces', async () => {
    const repo = new ProfileRepo(file)
    const a = await mustSave(repo, { name: 'Office GW', url: 'wss://a.example.com' })
    const b = await mustSave(repo, { name: 'Home', url: 'wss://b.example.com' })
    expect(await repo.get(a.id)).toEqual(a)
    expect(await repo.get('office gw')).toEqual(a)
    expect(await repo.get('  HOME ')).toEqual(b)
    expect(await repo.get('elsewhere')).toBeNull()
    expect(await repo.get('')).toBeNull()
  })

  it('keeps names unique ignoring case, on create and on rename', async () => {
    const repo = new ProfileRepo(file)
    const a = await mustSave(repo, { name: 'Home', url: 'wss://a.example.com' })
    const dup = await repo.save({ name: ' HOME ', url: 'wss://b.example.com' })
    expect(dup.ok).toBe(false)
    if (!dup.ok) {
      expect(dup.error.code).toBe('INVALID_INPUT')
      expect(dup.error.message).toMatch(/^name: a saved gateway is already called "Home"/)
    }
    const b = await mustSave(repo, { name: 'Office', url: 'wss://b.example.com' })
    const rename = await repo.save({ ...b, name: 'home' })
    expect(rename.ok).toBe(false)
    // Changing only the case of its own name is fine.
    expect((await repo.save({ ...a, name: 'HOME' })).ok).toBe(true)
    expect((await repo.list()).map((p) => p.name)).toEqual(['HOME', 'Office'])
  })

  it('removes by id', async () => {
    const repo = new ProfileRepo(file)
    const a = await mustSave(repo, { name: 'A', url: 'wss://a.example.com' })
    const b = await mustSave(repo, { name: 'B', url: 'wss://b.example.com' })
    expect(await repo.remove(a.id)).toBe(true)
    expect(await repo.remove(a.id)).toBe(false)
    expect(await repo.list()).toEqual([b])
    expect((await readJson()).profiles).toEqual([b])
  })

  it('returns validation errors without touching the file', async () => {
    const repo = new ProfileRepo(file)
    const bad = await repo.save({ name: 'A', url: 'https://a.example.com' })
    expect(!bad.ok && bad.error.code).toBe('INVALID_URL')
    expect(!bad.ok && bad.error.message).toMatch(/^url: must start with ws:\/\/ or wss:\/\//)
    const secret = await repo.save({ name: 'A', url: 'wss://a.example.com', token: 'abc' } as never)
    expect(!secret.ok && secret.error.code).toBe('INVALID_INPUT')
    expect(!secret.ok && secret.error.message).toMatch(/"token" is not a profile field/)
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('reports a write failure as an error value, not a crash', async () => {
    await writeFile(path.join(dir, 'blocker'), 'x')
    const repo = new ProfileRepo(path.join(dir, 'blocker', 'profiles.json'))
    const r = await repo.save({ name: 'A', url: 'wss://a.example.com' })
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.code).toBe('INTERNAL')
      expect(r.error.message).toMatch(/could not be written/)
    }
  })
})

describe('ProfileRepo concurrency', () => {
  it('keeps every one of many concurrent saves', async () => {
    const repo = new ProfileRepo(file)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => repo.save({ name: `gw ${i}`, url: `wss://gw${i}.example.com` }))
    )
    expect(results.every((r) => r.ok)).toBe(true)
    const names = (await new ProfileRepo(file).list()).map((p) => p.name)
    expect(names.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `gw ${i}`).sort())
    expect(await readdir(path.dirname(file))).toEqual(['profiles.json'])
  })

  it('lets exactly one of two concurrent saves with the same name win', async () => {
    const repo = new ProfileRepo(file)
    const [a, b] = await Promise.all([
      repo.save({ name: 'Same', url: 'wss://a.example.com' }),
      repo.save({ name: 'same', url: 'wss://b.example.com' })
    ])
    expect([a?.ok, b?.ok].filter(Boolean)).toHaveLength(1)
    expect(await repo.list()).toHaveLength(1)
  })

  it('serialises saves, updates and removes started together', async () => {
    const repo = new ProfileRepo(file)
    const a = await mustSave(repo, { name: 'A', url: 'wss://a.example.com' })
    await Promise.all([
      repo.save({ ...a, name: 'A2' }),
      repo.save({ name: 'B', url: 'wss://b.example.com' }),
      repo.remove(a.id),
      repo.save({ name: 'C', url: 'wss://c.example.com' })
    ])
    expect((await repo.list()).map((p) => p.name)).toEqual(['B', 'C'])
  })
})

describe('ProfileRepo broken files', () => {
  const stampNow = () => new Date('2026-12-03T08:09:10.123Z')
  const aside = () => `${file}.corrupt-2026-12-03T08-09-10-123Z`

  async function writeRaw(content: string) {
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, content)
  }

  it('moves a non-JSON file aside, keeps its content, and reports it once', async () => {
    await writeRaw('{ "schemaVersion": 1, "profiles": [ oops')
    const seen: ProfileFileWarning[] = []
    const repo = new ProfileRepo(file, { now: stampNow, onWarning: (w) => seen.push(w) })
    const first = await repo.load()
    expect(first.profiles).toEqual([])
    expect(first.warnings).toHaveLength(1)
    const w = first.warnings[0]
    expect(w?.kind).toBe('moved-aside')
    expect(w?.movedTo).toBe(aside())
    expect(w?.error.message).toContain('is not valid JSON')
    expect(w?.error.message).toContain(aside())
    expect(seen).toEqual(first.warnings)
    expect(await readFile(aside(), 'utf8')).toBe('{ "schemaVersion": 1, "profiles": [ oops')
    // Reported once; afterwards the repo works normally and never touches the moved file.
    expect((await repo.load()).warnings).toEqual([])
    await mustSave(repo, { name: 'A', url: 'wss://a.example.com' })
    expect(await readFile(aside(), 'utf8')).toBe('{ "schemaVersion": 1, "profiles": [ oops')
    expect((await readdir(path.dirname(file))).sort()).toEqual(['profiles.json', path.basename(aside())].sort())
  })

  it('reports a corrupt file found by save() through the next load() and onWarning', async () => {
    await writeRaw('')
    const onWarning = vi.fn()
    const repo = new ProfileRepo(file, { now: stampNow, onWarning })
    const saved = await mustSave(repo, { name: 'A', url: 'wss://a.example.com' })
    expect(onWarning).toHaveBeenCalledTimes(1)
    const loaded = await repo.load()
    expect(loaded.profiles).toEqual([saved])
    expect(loaded.warnings.map((w) => w.kind)).toEqual(['moved-aside'])
    expect(loaded.warnings[0]?.error.message).toContain('is empty')
  })

  it('moves aside a file holding a secret field, without quoting the secret', async () => {
    const leaked = {
      schemaVersion: 1,
      profiles: [
        {
          id: 'p1',
          name: 'A',
          url: 'wss://a.example.com',
          sessionKey: 'agent:main:main',
          access: { mode: 'none' },
          options: {},
          createdAt: '2026-01-01T00:00:00.000Z',
          updatedAt: '2026-01-01T00:00:00.000Z',
          gatewayToken: 'tok-9f8e7d6c5b4a'
        }
      ]
    }
    await writeRaw(JSON.stringify(leaked))
    const { profiles, warnings } = await new ProfileRepo(file, { now: stampNow }).load()
    expect(profiles).toEqual([])
    expect(warnings[0]?.error.message).toContain('"gatewayToken" is not a profile field')
    expect(JSON.stringify(warnings)).not.toContain('tok-9f8e7d6c5b4a')
  })

  it('does not quote file contents from a JSON syntax error', async () => {
    await writeRaw('sk-live-secret-value not json')
    const { warnings } = await new ProfileRepo(file, { now: stampNow }).load()
    expect(JSON.stringify(warnings)).not.toContain('sk-live')
  })

  it('moves aside a file that cannot be read (a directory in its place)', async () => {
    await mkdir(file, { recursive: true })
    const { profiles, warnings } = await new ProfileRepo(file, { now: stampNow }).load()
    expect(profiles).toEqual([])
    expect(warnings[0]?.kind).toBe('moved-aside')
    expect(warnings[0]?.error.message).toContain('could not be read (EISDIR)')
    expect((await stat(aside())).isDirectory()).toBe(true)
  })

  it('never overwrites an earlier corrupt copy', async () => {
    const repo = new ProfileRepo(file, { now: stampNow })
    await writeRaw('first')
    await repo.load()
    await writeRaw('second')
    const { warnings } = await repo.load()
    expect(warnings[0]?.movedTo).toBe(`${aside()}-2`)
    expect(await readFile(aside(), 'utf8')).toBe('first')
    expect(await readFile(`${aside()}-2`, 'utf8')).toBe('second')
  })

  it('leaves a newer-version file untouched and refuses to write it', async () => {
    const future = JSON.stringify({ schemaVersion: 2, profiles: [{ id: 'x', somethingNew: true }] })
    await writeRaw(future)
    const onWarning = vi.fn()
    const repo = new ProfileRepo(file, { onWarning })
    const loaded = await repo.load()
    expect(loaded.profiles).toEqual([])
    expect(loaded.warnings.map((w) => w.kind)).toEqual(['newer-version'])
    expect(loaded.warnings[0]?.error.message).toMatch(/newer version of Aether Remote/)
    expect(loaded.warnings[0]?.error.nextSteps[0]?.action).toBe('update-app')
    // Ongoing condition: in every load(), but told to the listener only once.
    expect((await repo.load()).warnings).toHaveLength(1)
    expect(onWarning).toHaveBeenCalledTimes(1)

    const r = await repo.save({ name: 'A', url: 'wss://a.example.com' })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.message).toMatch(/Update Aether Remote/)
    await expect(repo.remove('x')).rejects.toBeInstanceOf(ProfileRepoError)
    expect(await readFile(file, 'utf8')).toBe(future)
    expect(await readdir(path.dirname(file))).toEqual(['profiles.json'])
  })
})

describe('the Access AUD', () => {
  it('is kept with the profile, lower-cased', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "aud-"))
    const repo = new ProfileRepo(path.join(dir, "profiles.json"))
    const saved = await repo.save({ name: 'A', url: 'wss://a.example.com', access: { mode: 'email-otp', aud: 'AB'.repeat(32) } })
    expect(saved.ok && saved.value.access.aud).toBe('ab'.repeat(32))
    expect((await new ProfileRepo(path.join(dir, "profiles.json")).get('A'))?.access.aud).toBe('ab'.repeat(32))
  })
})
