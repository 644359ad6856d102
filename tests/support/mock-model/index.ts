// A local OpenAI-compatible model server for the integration tests. The real OpenClaw gateway is
// configured with it as its only model provider, so chats run end to end without any network.
//
// Routes: POST /v1/chat/completions (stream and non-stream), POST /v1/responses (stream and
// non-stream), GET /v1/models. Listens on 127.0.0.1 on an ephemeral port.
//
// Magic words, looked for only in the NEWEST real user message (never in history, so one failed
// run does not poison later ones):
//   MOCK_SLOW      stream slowly (slowChunkDelayMs per chunk), for abort tests
//   MOCK_FAIL      HTTP 500 (the gateway then retries for ~60-90 s before a terminal error)
//   MOCK_AUTHFAIL  HTTP 401 (fast terminal error, but the gateway puts the provider key into a
//                  ~1 min cooldown that makes every later chat fail: use it last or on its own gateway)
//   MOCK_ECHO      reply with "Echo: <the user message>" instead of the canned reply
//
// The server is deliberately text-only: it never emits tool calls, because the gateway's agent
// has host tools (exec, write, ...) and would run them on this machine.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface MockModelOptions {
  /** Reply text, streamed word by word. */
  reply?: string
  /** Delay before each streamed chunk in ms (default 30). */
  chunkDelayMs?: number
  /** Delay per chunk when the user message contains MOCK_SLOW (default 700). */
  slowChunkDelayMs?: number
  /** Model id reported by GET /v1/models and used when the request names none. */
  modelId?: string
}

export interface MockModelRequest {
  at: number
  method: string
  path: string
  /** The Authorization header as received. */
  authorization: string | undefined
  /** The parsed JSON body, or null. */
  body: unknown
  stream: boolean
  /** Text of the newest real user message ('' if none). */
  userText: string
  /** What the mock did: 'reply' | 'slow' | 'fail' | 'authfail' | 'echo' | 'models' | 'not-found'. */
  outcome: string
}

export interface MockModel {
  /** Origin, e.g. http://127.0.0.1:41234 (the OpenAI base URL is `${url}/v1`). */
  url: string
  /** `${url}/v1`, what an OpenAI-compatible provider config wants as baseUrl. */
  baseUrl: string
  port: number
  /** Every request received, oldest first. */
  requests: MockModelRequest[]
  /** Change the canned reply for later requests. */
  setReply(text: string): void
  close(): Promise<void>
}

export const DEFAULT_MOCK_REPLY = 'Hello from the mock model. This is a canned streamed reply.'
export const MOCK_MODEL_ID = 'mock-model'
export const MOCK_MODEL_API_KEY = 'sk-mock-local'

const INTERNAL_CONTEXT_MARKER = 'OPENCLAW_INTERNAL_CONTEXT'

type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Plain text of a chat/responses message content (string or array of parts). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content
      .map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : ''))
      .filter((t) => t.length > 0)
      .join('\n')
  }
  return ''
}

/** The newest user message, skipping the gateway's injected internal-context user turns. */
export function newestUserText(body: unknown): string {
  if (!isObject(body)) return ''
  const list = Array.isArray(body.messages) ? body.messages : Array.isArray(body.input) ? body.input : null
  if (typeof body.input === 'string') return body.input
  if (!list) return ''
  for (let i = list.length - 1; i >= 0; i--) {
    const m: unknown = list[i]
    if (!isObject(m) || m.role !== 'user') continue
    const text = contentText(m.content)
    if (text.includes(INTERNAL_CONTEXT_MARKER)) continue
    return text
  }
  return ''
}

/** Splits text into stream chunks: one word per chunk, keeping the spaces. */
function chunksOf(text: string): string[] {
  const parts = text.split(/(?<= )/)
  return parts.length > 0 ? parts : ['']
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function startSse(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
  res.flushHeaders()
}

const gone = (res: http.ServerResponse): boolean => res.destroyed || res.writableEnded

export async function startMockModel(options: MockModelOptions = {}): Promise<MockModel> {
  let reply = options.reply ?? DEFAULT_MOCK_REPLY
  const chunkDelayMs = options.chunkDelayMs ?? 30
  const slowChunkDelayMs = options.slowChunkDelayMs ?? 700
  const modelId = options.modelId ?? MOCK_MODEL_ID
  const requests: MockModelRequest[] = []

  async function chatCompletions(res: http.ServerResponse, body: Json, text: string, delay: number): Promise<void> {
    const id = `chatcmpl-mock-${Date.now()}`
    const created = Math.floor(Date.now() / 1000)
    const model = typeof body.model === 'string' ? body.model : modelId
    const pieces = chunksOf(text)
    const usage = { prompt_tokens: 42, completion_tokens: pieces.length, total_tokens: 42 + pieces.length }
    if (body.stream !== true) {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage
      })
      return
    }
    startSse(res)
    const write = (payload: Json): void => {
      if (!gone(res)) res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, ...payload })}\n\n`)
    }
    write({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })
    for (const piece of pieces) {
      await sleep(delay)
      if (gone(res)) return
      write({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })
    }
    write({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })
    const streamOptions = body.stream_options
    if (isObject(streamOptions) && streamOptions.include_usage === true) write({ choices: [], usage })
    if (!gone(res)) res.end('data: [DONE]\n\n')
  }

  async function responses(res: http.ServerResponse, body: Json, text: string, delay: number): Promise<void> {
    const id = `resp_mock_${Date.now()}`
    const itemId = `msg_mock_${Date.now()}`
    const model = typeof body.model === 'string' ? body.model : modelId
    const pieces = chunksOf(text)
    const usage = { input_tokens: 42, output_tokens: pieces.length, total_tokens: 42 + pieces.length }
    const base = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), model, status: 'in_progress', output: [] as unknown[] }
    const part = { type: 'output_text', text, annotations: [] as unknown[] }
    const item = { type: 'message', id: itemId, role: 'assistant', status: 'completed', content: [part] }
    if (body.stream !== true) {
      sendJson(res, 200, { ...base, status: 'completed', output: [item], usage })
      return
    }
    startSse(res)
    let seq = 0
    const event = (type: string, data: Json): void => {
      if (!gone(res)) res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`)
    }
    event('response.created', { response: base })
    event('response.in_progress', { response: base })
    event('response.output_item.added', {
      output_index: 0,
      item: { type: 'message', id: itemId, role: 'assistant', status: 'in_progress', content: [] }
    })
    event('response.content_part.added', { output_index: 0, item_id: itemId, content_index: 0, part: { ...part, text: '' } })
    for (const piece of pieces) {
      await sleep(delay)
      if (gone(res)) return
      event('response.output_text.delta', { output_index: 0, item_id: itemId, content_index: 0, delta: piece })
    }
    event('response.output_text.done', { output_index: 0, item_id: itemId, content_index: 0, text })
    event('response.content_part.done', { output_index: 0, item_id: itemId, content_index: 0, part })
    event('response.output_item.done', { output_index: 0, item })
    event('response.completed', { response: { ...base, status: 'completed', output: [item], usage } })
    if (!gone(res)) res.end()
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const raw = Buffer.concat(chunks).toString('utf8')
    let body: unknown = null
    try {
      body = raw ? JSON.parse(raw) : null
    } catch {
      body = null
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const method = req.method ?? 'GET'
    const userText = newestUserText(body)
    const record: MockModelRequest = {
      at: Date.now(),
      method,
      path,
      authorization: req.headers.authorization,
      body,
      stream: isObject(body) && body.stream === true,
      userText,
      outcome: 'not-found'
    }
    requests.push(record)

    if (method === 'GET' && (path === '/v1/models' || path === '/models')) {
      record.outcome = 'models'
      sendJson(res, 200, { object: 'list', data: [{ id: modelId, object: 'model', created: 0, owned_by: 'mock' }] })
      return
    }
    const isChat = method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')
    const isResponses = method === 'POST' && (path === '/v1/responses' || path === '/responses')
    if (!isChat && !isResponses) {
      sendJson(res, 404, { error: { message: `mock: no route ${method} ${path}`, type: 'invalid_request_error' } })
      return
    }
    if (userText.includes('MOCK_AUTHFAIL')) {
      record.outcome = 'authfail'
      sendJson(res, 401, {
        error: { message: 'mock: invalid api key (MOCK_AUTHFAIL)', type: 'invalid_request_error', code: 'invalid_api_key' }
      })
      return
    }
    if (userText.includes('MOCK_FAIL')) {
      record.outcome = 'fail'
      sendJson(res, 500, { error: { message: 'mock: upstream failure (MOCK_FAIL)', type: 'server_error', code: 'mock_failure' } })
      return
    }
    const slow = userText.includes('MOCK_SLOW')
    const echo = userText.includes('MOCK_ECHO')
    record.outcome = slow ? 'slow' : echo ? 'echo' : 'reply'
    const text = echo ? `Echo: ${userText}` : reply
    const delay = slow ? slowChunkDelayMs : chunkDelayMs
    const json = isObject(body) ? body : {}
    if (isChat) await chatCompletions(res, json, text, delay)
    else await responses(res, json, text, delay)
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `mock: ${String(err)}`, type: 'server_error' } })
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`
  let closed: Promise<void> | null = null
  return {
    url,
    baseUrl: `${url}/v1`,
    port,
    requests,
    setReply(text: string) {
      reply = text
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closed
    }
  }
}
