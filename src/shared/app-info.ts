/** Product name and version, shared by the app, the CLI and the user agent strings. */
export const APP_NAME = 'Aether Remote'
export const APP_VERSION = '0.1.0'
