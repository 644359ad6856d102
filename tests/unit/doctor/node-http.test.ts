// The doctor's HTTP port against real local servers whose answers never end.
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { nodeDoctorHttp } from '../../../src/main/doctor/node-ports'

const open = new Set<ServerResponse>()
let server: Server | undefined
afterEach(async () => {
  for (const res of open) res.destroy()
  open.clear()
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  server = undefined
})

async function serve(handler: (res: ServerResponse) => void): Promise<string> {
  server = createServer((_req, res) => {
    open.add(res)
    handler(res)
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

describe('the doctor’s HTTP probes', () => {
  it('a status whose body never ends is still that status (read for a few seconds), not a timeout', async () => {
    const url = await serve((res) => {
      res.writeHead(403, { 'content-type': 'text/plain' })
      res.write('forbidden')
      const drip = setInterval(() => res.write('.'), 200)
      res.on('close', () => clearInterval(drip))
    })
    const answer = await nodeDoctorHttp()({ url, method: 'GET', headers: {}, timeoutMs: 10_000 })
    expect(answer.status).toBe(403)
    expect(answer.body.startsWith('forbidden')).toBe(true)
  })

  it('a body streamed without end is cut at 256 KB', async () => {
    const chunk = 'x'.repeat(64 * 1024)
    const url = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      const pump = () => {
        while (res.write(chunk)) {
          // fill the socket buffer
        }
        res.once('drain', pump)
      }
      pump()
    })
    const answer = await nodeDoctorHttp()({ url, method: 'GET', headers: {}, timeoutMs: 10_000 })
    expect(answer.status).toBe(200)
    expect(answer.body.length).toBe(256 * 1024)
  })
})
