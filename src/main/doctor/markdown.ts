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

/** Text safe inside a table cell or a list item: one line, no pipes or HTML breaking out. */
function cell(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;').trim()
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
