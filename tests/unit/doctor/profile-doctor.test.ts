// The "Diagnose" button's service: the saved profile's credentials, steps pushed as they end, one
// run per profile, cancel, and a profile whose credentials cannot be used still diagnosed.
import { describe, expect, it } from 'vitest'
import { ProfileDoctor } from '../../../src/main/doctor/profile-doctor'
import type { DoctorPorts } from '../../../src/main/doctor/ports'
import { MemorySecretStore } from '../../../src/main/secrets/memory-secret-store'
import { secretKeys } from '../../../src/main/secrets/secret-store'
import { ok } from '../../../src/shared/errors'
import type { DoctorStep } from '../../../src/shared/doctor-report'
import type { GatewayProfile } from '../../../src/shared/profile'

const GATEWAY_TOKEN = 'gw-token-0123456789abcdef'

function profile(access: GatewayProfile['access']): GatewayProfile {
  return {
    id: 'p1',
    name: 'Prod',
    url: 'wss://gateway.example.com/ws',
    sessionKey: 'agent:main:main',
    access,
    options: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z'
  }
}

/** Ports of a host whose name does not resolve; `hold` keeps the lookup pending until released. */
function unresolvablePorts(hold?: Promise<void>): DoctorPorts {
  return {
    dns: {
      lookup: async () => {
        await hold
        throw Object.assign(new Error('getaddrinfo ENOTFOUND gateway.example.com'), { code: 'ENOTFOUND' })
      },
      resolveCname: async () => {
        throw Object.assign(new Error('no data'), { code: 'ENODATA' })
      }
    },
    sockets: { probe: async () => Promise.reject(new Error('not reached')), speaksTls: async () => Promise.reject(new Error('not reached')) },
    http: async () => Promise.reject(new Error('not reached')),
    gateway: { probe: async () => Promise.reject(new Error('not reached')) },
    clock: { now: Date.now },
    trustedCertificates: async () => ok([])
  }
}

function setup(ports: DoctorPorts) {
  const secrets = new MemorySecretStore()
  const steps: { profileId: string; step: DoctorStep }[] = []
  const doctor = new ProfileDoctor({
    connector: { secrets, client: { version: '0.1.0', platform: 'linux', deviceFamily: 'desktop', displayName: 't' }, userAgent: 'test' },
    ports,
    onStep: (profileId, step) => steps.push({ profileId, step })
  })
  return { doctor, secrets, steps }
}

describe('ProfileDoctor', () => {
  it('diagnoses a saved gateway, pushing each step, and returns the report and its Markdown without secrets', async () => {
    const { doctor, secrets, steps } = setup(unresolvablePorts())
    await secrets.set(secretKeys.gatewayToken('p1'), GATEWAY_TOKEN)
    const result = await doctor.run(profile({ mode: 'none' }))
    expect(result.ok).toBe(true)
    if (!result.ok) return
    const { report, markdown } = result.value
    expect(report.profileName).toBe('Prod')
    expect(report.steps.find((s) => s.id === 'dns')?.status).toBe('fail')
    expect(report.verdict.ok).toBe(false)
    expect(steps.length).toBeGreaterThanOrEqual(2)
    expect(steps.every((s) => s.profileId === 'p1')).toBe(true)
    expect(steps.map((s) => s.step.id).slice(0, 2)).toEqual(['url', 'dns'])
    expect(markdown).toContain('Prod')
    expect(JSON.stringify(report)).not.toContain(GATEWAY_TOKEN)
    expect(markdown).not.toContain(GATEWAY_TOKEN)
  })

  it('still diagnoses an email sign-in profile that has no sign-in yet, and says it checked without credentials', async () => {
    const { doctor } = setup(unresolvablePorts())
    const result = await doctor.run(profile({ mode: 'email-otp' }))
    expect(result.ok && result.value.report.notes.some((n) => /checked without them/.test(n))).toBe(true)
    expect(result.ok && result.value.report.accessMode).toBe('none')
    // DNS fails first here; the missing sign-in is still named among the causes.
    expect(result.ok && result.value.report.verdict.causes.some((c) => c.code === 'ACCESS_LOGIN_REQUIRED')).toBe(true)
  })

  it('runs once per profile at a time, and cancel ends the run', async () => {
    let release!: () => void
    const hold = new Promise<void>((r) => (release = r))
    const { doctor } = setup(unresolvablePorts(hold))
    const first = doctor.run(profile({ mode: 'none' }))
    const second = await doctor.run(profile({ mode: 'none' }))
    expect(second.ok).toBe(false)
    expect(!second.ok && second.error.title).toBe('Already diagnosing')
    expect(doctor.cancel('p1')).toBe(true)
    release()
    const done = await first
    expect(done.ok).toBe(true)
    expect(doctor.cancel('p1')).toBe(false)
  })
})
