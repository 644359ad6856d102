/**
 * The report as Markdown: a table of the steps with a mark each, the likely causes with their
 * evidence, the ways forward with their steps, then each step's details. What "Copy as
 * Markdown" in the app and the CLI's human output give.
 */
import type { DoctorReport, DoctorStepStatus } from '../../shared/doctor-report'

export const STATUS_MARK: Record<DoctorStepStatus, string> = {
  pass: '✅ pass',
  fail: '❌ fail',
  warn: '⚠️ warn',
  skip: '⏭️ skip'
}

/**
 * Text safe inside a table cell or a list item: one line, no pipe ending the cell and no raw
 * HTML, yet readable as it is in a terminal. Code spans (and the commands in the text, made
 * into code spans) stay literal: a command must work when copied. In the prose a "<" is
 * backslash-escaped only where Markdown would read it as a tag, a comment or an autolink; never
 * with an HTML entity, which a terminal would print as is.
 */
export function cell(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return splitCode(line)
    .map(([code, part]) => (code ? codeSpan(part) : part.replace(/\|/g, '\\|').replace(/<(?=[a-z/!?])/gi, '\\<')))
    .join('')
}

/** A code span around `text`, with a fence longer than any backtick run inside it. */
function codeSpan(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length))
  const fence = '`'.repeat(longest + 1)
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : ''
  // A pipe ends a table cell even inside a code span (GitHub's tables), so it stays escaped.
  return `${fence}${pad}${text.replace(/\|/g, '\\|')}${pad}${fence}`
}

const COMMAND = 'npm run cli -- '

/**
 * The text as [isCode, part] pieces: the code spans it already has, and each command
 * ("npm run cli -- …") up to the punctuation that ends it, a "(" that starts a remark, or the
 * end. A placeholder such as "<the wss:// address of the gateway>" or a quoted word is one
 * argument, spaces and all.
 */
function splitCode(text: string): [boolean, string][] {
  const out: [boolean, string][] = []
  let prose = ''
  let i = 0
  while (i < text.length) {
    if (text[i] === '`') {
      const run = /^`+/.exec(text.slice(i))?.[0] ?? '`'
      const close = text.indexOf(run, i + run.length)
      if (close > i) {
        out.push([false, prose], [true, text.slice(i + run.length, close).replace(/^ (.*) $/, '$1')])
        prose = ''
        i = close + run.length
        continue
      }
    }
    if (text.startsWith(COMMAND, i)) {
      const end = commandEnd(text, i + COMMAND.length)
      out.push([false, prose], [true, text.slice(i, end).trimEnd()])
      prose = ''
      i = end
      continue
    }
    prose += text[i]
    i += 1
  }
  out.push([false, prose])
  return out.filter(([, part]) => part !== '')
}

function commandEnd(text: string, from: number): number {
  let i = from
  while (i < text.length) {
    const c = text[i]
    if (c === '<' || c === "'" || c === '"') {
      const close = text.indexOf(c === '<' ? '>' : c, i + 1)
      if (close < 0) return text.length
      i = close + 1
      continue
    }
    if (c === ' ' && text[i + 1] === '(') return i
    if (c === ')') return i
    if ((c === '.' || c === ',' || c === ';' || c === ':') && (i + 1 === text.length || text[i + 1] === ' ')) return i
    i += 1
  }
  return i
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`
}

export function renderDoctorMarkdown(report: DoctorReport): string {
  const out: string[] = []
  out.push(`# Connection doctor: ${cell(report.url)}`)
  out.push('')
  const who = report.profileName ? `gateway "${cell(report.profileName)}", ` : ''
  out.push(`${who}checked ${report.startedAt} in ${seconds(report.durationMs)}; Cloudflare Access credential: ${report.accessMode}.`)
  out.push('')
  out.push(`**${report.verdict.ok ? 'Works' : 'Problem'}: ${cell(report.verdict.headline)}**`)
  out.push('')
  out.push('| # | Step | Result | Finding | Time |')
  out.push('| --- | --- | --- | --- | --- |')
  report.steps.forEach((s, i) => out.push(`| ${i + 1} | ${cell(s.title)} | ${STATUS_MARK[s.status]} | ${cell(s.summary)} | ${seconds(s.durationMs)} |`))
  out.push('')

  if (report.verdict.causes.length > 0) {
    out.push('## Likely causes, most likely first')
    out.push('')
    report.verdict.causes.forEach((c, i) => {
      out.push(`${i + 1}. **${cell(c.title)}** (${c.likelihood})`)
      for (const e of c.evidence) out.push(`   - ${cell(e)}`)
    })
    out.push('')
  }
  if (report.verdict.waysForward.length > 0) {
    out.push('## Ways forward')
    out.push('')
    for (const w of report.verdict.waysForward) {
      out.push(`### ${cell(w.title)}`)
      out.push('')
      // A one-sentence way is its own heading; repeating it as step 1 says nothing new.
      const steps = w.steps.filter((s) => cell(s) !== cell(w.title))
      steps.forEach((s, i) => out.push(`${i + 1}. ${cell(s)}`))
      if (w.command) {
        if (steps.length > 0) out.push('')
        out.push('```')
        out.push(w.command)
        out.push('```')
      }
      if (steps.length > 0 || w.command) out.push('')
    }
  }

  out.push('## Details')
  out.push('')
  out.push('Credentials (hints only):')
  for (const c of report.credentials) out.push(`- ${cell(c.label)}: ${cell(c.value)}`)
  for (const n of report.notes) out.push(`- note: ${cell(n)}`)
  out.push('')
  for (const s of report.steps) {
    if (s.details.length === 0 && !s.probes) continue
    out.push(`### ${cell(s.title)} (${STATUS_MARK[s.status]})`)
    out.push('')
    for (const d of s.details) out.push(`- ${cell(d.label)}: ${cell(d.value)}`)
    if (s.probes && s.probes.length > 0) {
      out.push('')
      out.push('| Probe | HTTP | service_token_status | Outcome |')
      out.push('| --- | --- | --- | --- |')
      for (const p of s.probes) {
        const status = p.httpStatus === null ? 'no answer' : `${p.httpStatus}${p.httpVersion ? ` (HTTP/${p.httpVersion})` : ''}`
        const sts = p.serviceTokenStatus === undefined ? '' : String(p.serviceTokenStatus)
        out.push(`| ${cell(p.label)} | ${status} | ${sts} | ${p.outcome}${p.code ? ` (${p.code})` : ''} |`)
      }
    }
    out.push('')
  }
  return out.join('\n')
}
