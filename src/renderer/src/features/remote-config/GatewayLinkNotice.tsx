/**
 * Above the editor when a gateway link was opened: the question when opening it would replace
 * unsaved input, then, while its new gateway is open, a reminder to check the address (a link
 * comes from outside the app; nothing is saved or dialled until the user says so).
 */
import { confirmGatewayLink, dismissGatewayLink, selectLinkedDraftOpen } from '../../lib/gateway-link'
import { hideUrls } from '../../lib/safe-text'
import { useProfiles } from '../../stores/profiles-store'
import { useUi } from '../../stores/ui-store'

export function GatewayLinkNotice() {
  const link = useUi((s) => s.gatewayLink)
  const selectedId = useProfiles((s) => s.selectedId)
  const linkedDraftOpen = useUi(selectLinkedDraftOpen(selectedId))

  if (link?.stage === 'confirm') {
    return (
      <div className="link-notice link-notice--confirm" role="alert" data-testid="gateway-link-confirm">
        <p>
          A link asks to open a new gateway at {hideUrls(link.request.url)}.{' '}
          {link.replaces === 'new-gateway'
            ? 'Opening it replaces the new gateway you have not saved yet.'
            : 'Opening it clears the secrets you typed here and have not saved.'}
        </p>
        <button type="button" className="button button--small" onClick={confirmGatewayLink}>
          Open link
        </button>
        <button type="button" className="button button--small" onClick={dismissGatewayLink}>
          Keep editing
        </button>
      </div>
    )
  }
  if (linkedDraftOpen) {
    return (
      <p className="link-notice" role="status" data-testid="gateway-link-banner">
        Opened from a link: check the address before you connect.
      </p>
    )
  }
  return null
}
