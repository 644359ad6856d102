/**
 * Cloudflare Access sign-in controls for one saved gateway: the full block in the editor's
 * Access section (status, who is signed in and for how long, sign in, cancel, sign out, the
 * system-browser fallback) and the compact pieces the error panel uses.
 *
 * The sign-in runs in the main process (a login window, or the system browser); this only
 * shows the status it reports. Nothing here ever holds or shows the token: the status has the
 * email and the expiry, and errors are shown by their title and message with any address
 * reduced to its host.
 */
import { useId } from 'react'
import type { AccessSignInStatus, ProfileView } from '../../../../shared/ipc-contract'
import type { AppError } from '../../../../shared/errors'
import { Spinner } from '../../components/Spinner'
import { hideUrls } from '../../lib/safe-text'
import { formatTimeLeft } from '../../lib/time-left'
import { useNow } from '../../lib/use-now'
import { cancelSignIn, selectSignInRunning, signOut, startSignIn, useAccess } from '../../stores/access-store'

export const SIGN_IN_LABEL = 'Sign in with Cloudflare Access'
export const BROWSER_SIGN_IN_LABEL = 'Sign in with your browser instead'

/** What one profile's sign-in looks like right now, from the store. */
function useSignIn(profileId: string | undefined) {
  const status = useAccess((s) => (profileId ? s.statuses[profileId] : undefined))
  const attempt = useAccess((s) => (profileId ? s.attempts[profileId] : undefined))
  const request = useAccess((s) => (profileId ? s.requests[profileId] : undefined))
  const requestError = useAccess((s) => (profileId ? s.requestErrors[profileId] : undefined))
  const notice = useAccess((s) => (profileId ? s.notices[profileId] : undefined))
  const running = useAccess(selectSignInRunning(profileId))
  const phase = status?.phase ?? 'signed-out'
  const via = status?.via ?? attempt
  // The last attempt's failure is old news while a new one runs.
  const error = running ? undefined : (requestError ?? status?.error)
  return {
    status,
    phase,
    via,
    request,
    running,
    error,
    notice,
    // An attempt started here may not have reported `signing-in` yet: it can be cancelled all the same.
    canCancel: running && (attempt !== undefined || phase === 'signing-in' || (phase === 'renewing' && via === 'window'))
  }
}

/**
 * Whether to offer the system browser: the main process says so, or the error says the login
 * page's verification (the bot check) is what failed in the window.
 */
export function offersBrowser(status: AccessSignInStatus | undefined): boolean {
  if (!status) return false
  if (status.offerBrowser) return true
  const error = status.error
  if (!error) return false
  const says = (text: string) => /verification/i.test(text)
  return says(error.title) || says(error.message) || error.nextSteps.some((step) => says(step.label))
}

/** The line that says what is going on while an attempt runs. */
function runningLine(phase: AccessSignInStatus['phase'], via: AccessSignInStatus['via']): string {
  if (phase === 'renewing') {
    return via === 'window'
      ? 'Renewing the Cloudflare Access session… Complete the sign-in in the Cloudflare Access window.'
      : 'Renewing the Cloudflare Access session…'
  }
  if (via === 'browser') return 'Complete the sign-in in your web browser; the app is waiting for it…'
  return 'Complete the sign-in in the Cloudflare Access window…'
}

/** Why the sign-in cannot start for this gateway yet; undefined when it can. */
export function signInBlocker(profile: ProfileView | undefined, draftUrl: string): string | undefined {
  if (!profile) return 'Save this gateway first: the sign-in is kept with the saved gateway.'
  if (!/^(wss|https):\/\//i.test(profile.url)) {
    return 'Cloudflare Access sign-in needs a wss:// gateway address: Access only sits in front of TLS addresses.'
  }
  // The sign-in opens the saved address; signing in to one the user is about to replace helps nobody.
  if (draftUrl.trim() !== profile.url.trim()) return `Save the new address first: the sign-in opens the saved one, ${hideUrls(profile.url)}.`
  return undefined
}

function ErrorLine({ error, testId }: { error: AppError; testId: string }) {
  return (
    <p className="field__error" data-testid={testId}>
      <strong>{hideUrls(error.title)}.</strong> {hideUrls(error.message)}
    </p>
  )
}

export interface AccessSignInProps {
  /** The saved profile; undefined while the gateway is new. */
  profile?: ProfileView
  /** The address as typed in the editor. */
  draftUrl: string
  /** The editor is saving or removing. */
  disabled: boolean
}

/** The sign-in block of the editor's Access section (mode `email-otp`). */
export function AccessSignIn({ profile, draftUrl, disabled }: AccessSignInProps) {
  const profileId = profile?.id
  const { status, phase, via, request, running, error, notice, canCancel } = useSignIn(profileId)
  const blockerId = useId()
  const browserNoteId = useId()
  const blocker = signInBlocker(profile, draftUrl)
  const hasToken = phase === 'signed-in' || phase === 'expired' || (phase === 'renewing' && status?.expiresAt !== undefined)
  const busy = disabled || running || request !== undefined
  const showBrowser = profileId !== undefined && !running && !blocker && offersBrowser(status)

  return (
    <div className="access-sign-in">
      {profileId && (
        <div className="access-sign-in__status" data-testid="access-sign-in-status" data-phase={phase}>
          {running ? (
            <p className="access-sign-in__line" aria-live="polite">
              <Spinner label={runningLine(phase, via)} />
            </p>
          ) : phase === 'signed-in' && status ? (
            <SignedIn status={status} />
          ) : (
            <p className="access-sign-in__line" aria-live="polite">
              {phase === 'expired' ? 'The Cloudflare Access sign-in has expired. Sign in again to connect.' : 'Not signed in to Cloudflare Access.'}
            </p>
          )}
          {error && <ErrorLine error={error} testId="access-sign-in-error" />}
          {notice && (
            <p className="note" data-testid="access-sign-in-notice" aria-live="polite">
              {notice}
            </p>
          )}
        </div>
      )}

      <div className="button-row">
        {/* Signed in with an error: the renewal needs the user, who signs in again from here. */}
        {phase !== 'renewing' && (phase !== 'signed-in' || error !== undefined) && (
          <button
            type="button"
            className="button button--primary"
            disabled={busy || blocker !== undefined}
            aria-describedby={blocker ? blockerId : undefined}
            onClick={() => profileId && void startSignIn(profileId)}
          >
            {SIGN_IN_LABEL}
          </button>
        )}
        {canCancel && profileId && (
          <button type="button" className="button" disabled={request === 'cancel'} onClick={() => void cancelSignIn(profileId)}>
            Cancel sign-in
          </button>
        )}
        {hasToken && profileId && (
          <button type="button" className="button" disabled={busy} onClick={() => void signOut(profileId)}>
            Sign out
          </button>
        )}
        {request === 'sign-out' && <span className="note">Signing out…</span>}
      </div>
      {blocker && (
        <p id={blockerId} className="field__hint" data-testid="access-sign-in-blocked">
          {blocker}
        </p>
      )}
      {!blocker && profile && profile.access.mode !== 'email-otp' && (
        // The mode was just switched here: signing in works, but connections follow the saved mode.
        <p className="field__hint" data-testid="access-sign-in-mode-hint">
          Save to make this gateway connect with the Cloudflare Access sign-in.
        </p>
      )}

      {showBrowser && (
        <div className="access-sign-in__browser">
          <button type="button" className="button" disabled={busy} aria-describedby={browserNoteId} onClick={() => void startSignIn(profileId, 'browser')}>
            {BROWSER_SIGN_IN_LABEL}
          </button>
          <p id={browserNoteId} className="field__hint">
            Your web browser opens the Cloudflare Access sign-in page; the app waits until you have signed in there, then keeps the sign-in for this
            gateway.
          </p>
        </div>
      )}
    </div>
  )
}

/** Who is signed in, how long the sign-in lasts (live), and when the app renews it. */
function SignedIn({ status }: { status: AccessSignInStatus }) {
  const now = useNow(status.expiresAt !== undefined, 1000)
  const left = status.expiresAt !== undefined ? status.expiresAt - now : undefined
  const renewIn = status.renewAt !== undefined ? status.renewAt - now : undefined
  return (
    <>
      <p className="access-sign-in__line" data-testid="access-signed-in">
        <span className="status-dot status-dot--ready" aria-hidden="true" />
        {status.email ? `Signed in as ${status.email}` : 'Signed in to Cloudflare Access'}
      </p>
      {left !== undefined && (
        <p className="field__hint">
          {left > 0 ? (
            <>
              Expires in <span data-testid="access-time-left">{formatTimeLeft(left)}</span>
              {renewIn !== undefined && (renewIn > 0 ? `; renewed automatically in ${formatTimeLeft(renewIn)}.` : '; renewed automatically now.')}
            </>
          ) : (
            <>
              <span data-testid="access-time-left">Expired</span>; renewed automatically now.
            </>
          )}
        </p>
      )}
    </>
  )
}

/** A next step's sign-in button in the error panel (the window, or with `browser` the system browser). */
export function SignInStepButton({ profileId, label, browser = false }: { profileId: string; label: string; browser?: boolean }) {
  const { running, request } = useSignIn(profileId)
  return (
    <button
      type="button"
      className="button button--small"
      disabled={running || request !== undefined}
      onClick={() => void startSignIn(profileId, browser ? 'browser' : 'window')}
    >
      {label}
    </button>
  )
}

/** Under the error panel's steps: the sign-in in flight (with Cancel) or how the last one ended. */
export function SignInProgress({ profileId }: { profileId: string }) {
  const { phase, via, request, running, error, canCancel } = useSignIn(profileId)
  if (!running && !error) return null
  return (
    <div className="sign-in-progress" data-testid="error-panel-sign-in-status" data-phase={phase}>
      {running ? (
        <p className="sign-in-progress__line" aria-live="polite">
          <Spinner label={runningLine(phase, via)} />
          {canCancel && (
            <button type="button" className="button button--small" disabled={request === 'cancel'} onClick={() => void cancelSignIn(profileId)}>
              Cancel sign-in
            </button>
          )}
        </p>
      ) : (
        error && <ErrorLine error={error} testId="error-panel-sign-in-error" />
      )}
    </div>
  )
}
