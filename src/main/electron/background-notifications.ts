/**
 * System notifications while the window is in the background, decided by
 * src/main/desktop/background-notifications.ts and shown with Electron's Notification.
 */
import type { Notification as NotificationType, NotificationConstructorOptions } from 'electron'
import type { EventSink } from '../../shared/ipc-contract'
import { BackgroundNotificationPolicy, type BackgroundNotification } from '../desktop/background-notifications'

type NotificationLike = Pick<NotificationType, 'show' | 'on'>
export interface NotificationClass {
  new (options: NotificationConstructorOptions): NotificationLike
  isSupported(): boolean
}

export interface BackgroundNotifierOptions {
  Notification: NotificationClass
  /** True while the app window has focus (then nothing is shown). */
  isWindowFocused(): boolean
  /** The saved gateways' names; read again when a gateway starts connecting. */
  listProfiles(): Promise<readonly { id: string; name: string }[]>
  /** A notification was clicked: bring the window forward. */
  onClick(notification: BackgroundNotification): void
  now?: () => number
}

/**
 * Wrap the services' event sink: every event still goes to the window, and connection and
 * reply events also pass through the notification policy.
 */
export function withBackgroundNotifications(sink: EventSink, opts: BackgroundNotifierOptions): EventSink {
  const names = new Map<string, string>()
  let refreshing: Promise<void> | null = null
  const refreshNames = (): void => {
    refreshing ??= opts
      .listProfiles()
      .then((profiles) => {
        names.clear()
        for (const p of profiles) names.set(p.id, p.name)
      })
      .catch(() => undefined)
      .finally(() => (refreshing = null))
  }
  const policy = new BackgroundNotificationPolicy({ now: opts.now ?? Date.now, nameOf: (id) => names.get(id) })
  // Shown notifications are kept referenced until dismissed, or macOS drops their click handler.
  const live = new Set<NotificationLike>()
  const show = (n: BackgroundNotification | null): void => {
    if (!n || !opts.Notification.isSupported()) return
    const notification = new opts.Notification({ title: n.title, body: n.body, silent: false })
    live.add(notification)
    notification.on('click', () => {
      live.delete(notification)
      opts.onClick(n)
    })
    notification.on('close', () => live.delete(notification))
    notification.show()
  }
  refreshNames()

  return (channel, payload) => {
    sink(channel, payload)
    try {
      if (channel === 'connection:state') {
        const snapshot = payload as Parameters<typeof policy.onConnectionState>[0]
        if (snapshot.state.kind === 'connecting' || !names.has(snapshot.profileId)) refreshNames()
        show(policy.onConnectionState(snapshot, opts.isWindowFocused()))
      } else if (channel === 'session:event') {
        show(policy.onSessionEvent(payload as Parameters<typeof policy.onSessionEvent>[0], opts.isWindowFocused()))
      }
    } catch (err) {
      console.warn('[notifications] could not show a notification', err)
    }
  }
}
