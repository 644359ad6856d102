/**
 * Electron security checklist #5 ("handle session permission requests from remote content"):
 * the app needs no web permission (camera, microphone, notifications, geolocation, clipboard
 * read, HID/USB/serial...), so every request and every check is answered "no". Without these
 * handlers Electron grants most permissions by default.
 */

/** The part of an Electron Session the permission handlers are set on. */
export interface PermissionSession {
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void
}

/** Deny every permission request and check on `session`. */
export function denyAllPermissions(session: PermissionSession): void {
  session.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
}
