/**
 * The button for one thing to do about a connection problem, by its action: open the editor at
 * the field to change, start the Cloudflare Access sign-in, or copy the pairing approval
 * command. Shared by the error panel's next steps and the doctor's ways forward, so both offer
 * the same buttons with the same names; actions only the user can take get none.
 */
import type { ReactNode } from 'react'
import type { NextStep } from '../../../../shared/errors'
import { useUi } from '../../stores/ui-store'
import { BROWSER_SIGN_IN_LABEL, SignInStepButton, SIGN_IN_LABEL } from '../access/AccessSignIn'
import { CopyCommand } from './CopyCommand'

/** Actions whose button starts a Cloudflare Access sign-in (show SignInProgress near them). */
export const SIGN_IN_ACTIONS: ReadonlySet<NextStep['action']> = new Set(['sign-in-email', 'renew-app-token'])

export interface StepControlProps {
  action: NextStep['action']
  /** The step in words; a sign-in step worded "…with your web browser instead" signs in in the browser. */
  label: string
  /** Without a profile, the steps that open the editor or sign in show no button. */
  profileId?: string
  /** The approval command of an `approve-pairing` step (shown with Copy). */
  pairingCommand?: string
}

export function StepControl({ action, label, profileId, pairingCommand }: StepControlProps): ReactNode {
  const requestFocus = useUi((s) => s.requestFocus)
  const open = (field: Parameters<typeof requestFocus>[1], mode?: Parameters<typeof requestFocus>[2]) =>
    profileId ? () => requestFocus(profileId, field, mode) : undefined

  switch (action) {
    case 'add-service-token':
      return <StepButton label="Add service token" onClick={open('clientId', 'service-token')} />
    case 'check-service-token':
      return <StepButton label="Check service token" onClick={open('clientId', 'service-token')} />
    case 'check-gateway-token':
      return <StepButton label="Check gateway token" onClick={open('gatewayToken')} />
    case 'add-ca-file':
      return <StepButton label="Set CA file" onClick={open('caFile')} />
    case 'check-url':
      return <StepButton label="Edit gateway URL" onClick={open('url')} />
    case 'sign-in-email':
      if (!profileId) return null
      // The main process words its fallback step as "…sign in with your web browser instead".
      return /browser instead/i.test(label) ? (
        <SignInStepButton profileId={profileId} label={BROWSER_SIGN_IN_LABEL} browser />
      ) : (
        <SignInStepButton profileId={profileId} label={SIGN_IN_LABEL} />
      )
    case 'renew-app-token':
      return profileId ? <SignInStepButton profileId={profileId} label="Sign in again" /> : null
    case 'approve-pairing':
      return pairingCommand ? <CopyCommand command={pairingCommand} /> : null
    // Retry is the error panel's own button; the others are things only the user can do.
    case 'retry':
    case 'check-network':
    case 'check-dashboard':
    case 'wait':
    case 'update-app':
      return null
  }
}

function StepButton({ label, onClick }: { label: string; onClick?: () => void }) {
  if (!onClick) return null
  return (
    <button type="button" className="button button--small" onClick={onClick}>
      {label}
    </button>
  )
}
