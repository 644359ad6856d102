/**
 * Saved gateways and which one is selected.
 *
 * Holds ProfileViews (the profile plus whether each secret is set and its hint), never a secret
 * value: `setSecret` passes the value straight to the main process and keeps only the status
 * that comes back.
 */
import { create } from 'zustand'
import type { ProfileDraft, ProfileView, SecretKind, SecretsStatus } from '../../../shared/ipc-contract'
import type { AppError, Result } from '../../../shared/errors'
import { DEFAULT_SESSION_KEY } from '../../../shared/profile'
import { getApi } from '../lib/api'

/** Offered by the empty list when no gateway is saved (the main process seeds it on a first start). */
export const LOCAL_GATEWAY_DRAFT: ProfileDraft = {
  name: 'Local gateway',
  url: 'ws://127.0.0.1:18789',
  sessionKey: DEFAULT_SESSION_KEY,
  access: { mode: 'none' }
}

/** `selectedId` value for the editor of a gateway that is not saved yet. */
export const NEW_PROFILE = 'new'

export interface ProfilesState {
  profiles: ProfileView[]
  /** A profile id, NEW_PROFILE while adding one, or null when nothing is selected. */
  selectedId: string | null
  status: 'idle' | 'loading' | 'loaded' | 'error'
  loadError?: AppError
  load(): Promise<void>
  /** Fetch one saved profile's view again (its secrets changed in the main process, e.g. after a sign-in). */
  reloadProfile(id: string): Promise<void>
  select(id: string | null): void
  save(draft: ProfileDraft): Promise<Result<ProfileView>>
  remove(id: string): Promise<Result<{ removed: boolean }>>
  createLocalGateway(): Promise<Result<ProfileView>>
  setSecret(profileId: string, kind: SecretKind, value: string): Promise<Result<SecretsStatus>>
  clearSecret(profileId: string, kind: SecretKind): Promise<Result<SecretsStatus>>
}

// Loading is shared between concurrent callers: React's StrictMode starts the bridge twice.
let loading: Promise<void> | undefined

export const useProfiles = create<ProfilesState>()((set, get) => {
  const upsert = (profile: ProfileView) =>
    set((s) => {
      const exists = s.profiles.some((p) => p.id === profile.id)
      return { profiles: exists ? s.profiles.map((p) => (p.id === profile.id ? profile : p)) : [...s.profiles, profile] }
    })
  const updateSecrets = (profileId: string, secrets: SecretsStatus) =>
    set((s) => ({ profiles: s.profiles.map((p) => (p.id === profileId ? { ...p, secrets } : p)) }))

  return {
    profiles: [],
    selectedId: null,
    status: 'idle',

    load() {
      loading ??= (async () => {
        set({ status: 'loading', loadError: undefined })
        const listed = await getApi().profiles.list()
        if (!listed.ok) {
          set({ status: 'error', loadError: listed.error })
          return
        }
        // The main process seeds the "Local gateway" profile on a first start; an empty list
        // here means the operator removed every gateway, and the empty state offers it again.
        const profiles = listed.value
        const selectedId = get().selectedId
        const keep = selectedId === NEW_PROFILE || profiles.some((p) => p.id === selectedId)
        set({ profiles, status: 'loaded', selectedId: keep ? selectedId : (profiles[0]?.id ?? null) })
      })().finally(() => {
        loading = undefined
      })
      return loading
    },

    async reloadProfile(id) {
      // There is no single-profile request; the list is small and local.
      const listed = await getApi().profiles.list()
      if (!listed.ok) return
      const fresh = listed.value.find((p) => p.id === id)
      // Only refresh a profile this window still lists: never resurrect one removed meanwhile.
      if (fresh) set((s) => ({ profiles: s.profiles.map((p) => (p.id === id ? fresh : p)) }))
    },

    select(id) {
      set({ selectedId: id })
    },

    async save(draft) {
      const saved = await getApi().profiles.save(draft)
      if (saved.ok) upsert(saved.value)
      return saved
    },

    async remove(id) {
      const removed = await getApi().profiles.remove(id)
      if (removed.ok) {
        set((s) => {
          const profiles = s.profiles.filter((p) => p.id !== id)
          return { profiles, selectedId: s.selectedId === id ? (profiles[0]?.id ?? null) : s.selectedId }
        })
      }
      return removed
    },

    async createLocalGateway() {
      const created = await get().save(LOCAL_GATEWAY_DRAFT)
      if (created.ok) set({ selectedId: created.value.id })
      return created
    },

    async setSecret(profileId, kind, value) {
      const result = await getApi().secrets.set(profileId, kind, value)
      if (result.ok) updateSecrets(profileId, result.value)
      return result
    },

    async clearSecret(profileId, kind) {
      const result = await getApi().secrets.clear(profileId, kind)
      if (result.ok) updateSecrets(profileId, result.value)
      return result
    }
  }
})

/** The selected saved profile, if any (not the NEW_PROFILE editor). */
export function selectSelectedProfile(s: ProfilesState): ProfileView | undefined {
  return s.profiles.find((p) => p.id === s.selectedId)
}
