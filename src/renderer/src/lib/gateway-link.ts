/**
 * Opening an `aether-remote://connect?url=…` link: the Gateways view shows a new gateway
 * prefilled with the link's address (and name), not saved and not connected until the user
 * clicks Save or Connect. A link comes from outside the app, so the editor says where the
 * address came from and the user checks it before anything is sent to it.
 *
 * Unsaved input is never dropped silently. Edits to a saved gateway survive anyway (they are
 * kept per profile in the UI store and come back when it is selected again), so those need no
 * question. Two things would be lost: the one unsaved new gateway (there is a single new-gateway
 * slot, and the link needs it) and secrets typed into the open form (they live only in its
 * inputs). Then the editor asks first, with a bar in the form rather than a modal dialog.
 */
import type { OpenGatewayRequest } from '../../../shared/ipc-contract'
import { initialDraft, sameDraft } from '../features/remote-config/profile-draft'
import { NEW_PROFILE, useProfiles } from '../stores/profiles-store'
import { useUi, type EditorDraft, type UiState } from '../stores/ui-store'

/** Answers whether the open editor holds typed secrets not yet stored; set by the mounted editor. */
let typedSecretsProbe: (() => boolean) | undefined

/** The editor registers how to tell whether it holds typed secrets; returns the unregister function. */
export function registerTypedSecretsProbe(probe: () => boolean): () => void {
  typedSecretsProbe = probe
  return () => {
    if (typedSecretsProbe === probe) typedSecretsProbe = undefined
  }
}

// Control characters (a link is outside input) and the lengths the profile fields accept.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g
const clean = (text: string | undefined, max: number) => (text ?? '').replace(CONTROL, '').trim().slice(0, max)

/** Called by the bridge for every link the main process passes on. */
export function receiveGatewayLink(raw: OpenGatewayRequest): void {
  const url = clean(raw.url, 2048)
  if (url === '') return
  const name = clean(raw.name, 100)
  const request: OpenGatewayRequest = name ? { url, name } : { url }
  const ui = useUi.getState()
  ui.setTab('gateways')
  const replaces = unsavedNewGateway() ? 'new-gateway' : typedSecretsProbe?.() ? 'typed-secrets' : undefined
  if (replaces) useUi.setState({ gatewayLink: { request, stage: 'confirm', replaces } })
  else openLinkedDraft(request)
}

/** The user chose to open the link the confirm bar asked about. */
export function confirmGatewayLink(): void {
  const link = useUi.getState().gatewayLink
  if (link?.stage === 'confirm') openLinkedDraft(link.request)
}

/** The user chose to keep what they were doing; the link is dropped. */
export function dismissGatewayLink(): void {
  useUi.setState({ gatewayLink: undefined })
}

function openLinkedDraft(request: OpenGatewayRequest): void {
  const draft: EditorDraft = { ...initialDraft(undefined), url: request.url, name: request.name ?? '' }
  useUi.setState((s) => ({
    drafts: { ...s.drafts, [NEW_PROFILE]: draft },
    gatewayLink: { request, stage: 'opened' },
    newEditorNonce: s.newEditorNonce + 1,
    tab: 'gateways'
  }))
  useProfiles.getState().select(NEW_PROFILE)
}

function unsavedNewGateway(): boolean {
  const draft = useUi.getState().drafts[NEW_PROFILE]
  return draft !== undefined && !sameDraft(draft, initialDraft(undefined))
}

/** True while the new-gateway editor shows the draft a link opened (the banner is shown). */
export function selectLinkedDraftOpen(selectedId: string | null) {
  return (s: UiState): boolean => s.gatewayLink?.stage === 'opened' && selectedId === NEW_PROFILE
}
