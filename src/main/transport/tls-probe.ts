/**
 * Does a port speak TLS? Asked when a plain ws:// upgrade was hung up on or answered with junk:
 * the usual reason is an address that should start with wss://, and a probe turns that guess into
 * a fact the error can state.
 *
 * The probe only sends a ClientHello and hangs up once the server answers it; nothing of the
 * connection or its credentials is sent, and the certificate is not judged (a self-signed one
 * still means "this port speaks TLS").
 */
import { isIP } from 'node:net'
import { connect } from 'node:tls'

export interface TlsProbeOptions {
  host: string
  port: number
  timeoutMs: number
  signal?: AbortSignal
}

/** True when the server completed (or answered, even with an alert) a TLS handshake. */
export function portSpeaksTls(opts: TlsProbeOptions): Promise<boolean> {
  return new Promise((resolve) => {
    if (opts.signal?.aborted) {
      resolve(false)
      return
    }
    let done = false
    const socket = connect({
      host: opts.host,
      port: opts.port,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      ...(isIP(opts.host) === 0 ? { servername: opts.host } : {})
    })
    const finish = (speaksTls: boolean) => {
      if (done) return
      done = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      socket.removeAllListeners('secureConnect')
      socket.on('error', () => {}) // late errors after the answer are of no interest
      socket.destroy()
      resolve(speaksTls)
    }
    const onAbort = () => finish(false)
    const timer = setTimeout(() => finish(false), opts.timeoutMs)
    opts.signal?.addEventListener('abort', onAbort)
    socket.once('secureConnect', () => finish(true))
    socket.once('error', (err: Error & { code?: string }) => {
      // The server sent a TLS alert: it speaks TLS, it only disliked this hello (an old protocol
      // version, no shared cipher, a required client certificate).
      finish(/alert/i.test(err.message) || (err.code ?? '').startsWith('ERR_SSL_TLSV1_ALERT') || (err.code ?? '').startsWith('ERR_SSL_SSLV3_ALERT'))
    })
    socket.once('close', () => finish(false))
  })
}
