/**
 * Text from an error, made safe to show: any address in it is reduced to its host.
 *
 * Errors are built without raw URLs, but a gateway or proxy message can still carry one (a
 * login redirect with its signed query); the panel never shows more than the host name.
 */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi

export function hideUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => {
    try {
      const host = new URL(url).host
      return host === '' ? '[address]' : host
    } catch {
      return '[address]'
    }
  })
}
