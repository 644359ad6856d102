/**
 * Window-level UI state: which view is open, which form field another panel asked to focus,
 * what the screen-reader status region last said, the gateway editor's unsaved edits (kept
 * here so they survive switching views; they never hold a secret), and a gateway link
 * (`aether-remote://connect?url=…`) being opened.
 */
import { create } from 'zustand'
import type { OpenGatewayRequest } from '../../../shared/ipc-contract'
import type { AccessMode } from '../../../shared/profile'
import { NEW_PROFILE, useProfiles } from './profiles-store'

export type MainTab = 'gateways' | 'session'

/** Editor fields another panel can send the user to. */
export type FocusField = 'url' | 'gatewayToken' | 'clientId' | 'clientSecret' | 'caFile'

export interface FocusRequest {
  profileId: string
  field: FocusField
  /** Switch the Access mode too (e.g. "add a service token" from an Access error). */
  accessMode?: AccessMode
  /** Distinguishes two requests for the same field. */
  nonce: number
}

/** The non-secret fields of the gateway editor, as typed. */
export interface EditorDraft {
  name: string
  url: string
  sessionKey: string
  caFile: string
  accessMode: AccessMode
  clientId: string
  aud: string
}

/**
 * A gateway link the window was asked to open (see lib/gateway-link.ts): waiting for the user
 * to confirm (it would replace unsaved input), or opened as a new, unsaved gateway.
 */
export interface GatewayLinkState {
  request: OpenGatewayRequest
  stage: 'confirm' | 'opened'
  /** What opening it would replace (stage `confirm`). */
  replaces?: 'new-gateway' | 'typed-secrets'
}

export interface UiState {
  tab: MainTab
  focusRequest?: FocusRequest
  announcement: string
  /** Unsaved editor edits per profile id (or NEW_PROFILE). */
  drafts: Record<string, EditorDraft | undefined>
  gatewayLink?: GatewayLinkState
  /** Bumped to give the new-gateway editor a fresh form (nothing typed into the old one carries over). */
  newEditorNonce: number
  setTab(tab: MainTab): void
  /** Open the editor of `profileId` and focus `field` there. */
  requestFocus(profileId: string, field: FocusField, accessMode?: AccessMode): void
  consumeFocusRequest(nonce: number): void
  announce(text: string): void
  setDraft(key: string, draft: EditorDraft | undefined): void
}

let nonce = 0

export const useUi = create<UiState>()((set) => ({
  tab: 'gateways',
  announcement: '',
  drafts: {},
  newEditorNonce: 0,
  setTab(tab) {
    set({ tab })
  },
  requestFocus(profileId, field, accessMode) {
    useProfiles.getState().select(profileId)
    set({ tab: 'gateways', focusRequest: { profileId, field, accessMode, nonce: ++nonce } })
  },
  consumeFocusRequest(done) {
    set((s) => (s.focusRequest?.nonce === done ? { focusRequest: undefined } : {}))
  },
  announce(text) {
    set({ announcement: text })
  },
  setDraft(key, draft) {
    set((s) => ({
      drafts: { ...s.drafts, [key]: draft },
      // The new gateway a link opened was saved or cancelled: the link has been dealt with.
      ...(key === NEW_PROFILE && draft === undefined && s.gatewayLink?.stage === 'opened' ? { gatewayLink: undefined } : {})
    }))
  }
}))
