/**
 * Entry point of the Aether Remote command line (`npm run cli -- ...`).
 *
 * Runs the same engine as the desktop app. Never throws to the shell: every failure is printed
 * as an explained error and mapped to a documented exit code.
 */
import { appError } from '../shared/errors'
import { APP_VERSION } from '../shared/app-info'
import { parseCliArgs, USAGE } from './args'
import { runConnect } from './commands/connect'
import { runDoctorCommand } from './commands/doctor'
import { runLogin } from './commands/login'
import { runProfile } from './commands/profile'
import { createCliContext, secretsFromEnv } from './context'
import { createOutput } from './output'
import { installStdioErrorHandlers } from './stdio'

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const supplied = secretsFromEnv(env)
  const jsonWanted = argv.includes('--json')
  const output = createOutput({
    json: jsonWanted,
    secrets: [supplied.gatewayToken, supplied.cfClientSecret, supplied.cfAppToken]
  })
  const parsed = parseCliArgs(argv)
  if (!parsed.ok) {
    output.error(parsed.error)
    if (!jsonWanted) process.stderr.write('\n' + USAGE)
    return 2
  }
  const args = parsed.value
  if (args.command === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  if (args.command === 'version') {
    process.stdout.write(`${APP_VERSION}\n`)
    return 0
  }
  const ctx = createCliContext(output, env)
  try {
    if (args.command === 'connect') return await runConnect(args, ctx)
    if (args.command === 'login') return await runLogin(args, ctx)
    if (args.command === 'doctor') return await runDoctorCommand(args, ctx)
    return await runProfile(args, ctx)
  } catch (e) {
    // A bug, not an expected failure: say so plainly, without a stack unless asked for.
    if (env.AETHER_DEBUG) process.stderr.write(`${(e as Error).stack ?? String(e)}\n`)
    return ctx.fail(
      appError('INTERNAL', 'Unexpected error', `Aether Remote hit an internal error: ${(e as Error).message?.slice(0, 200) ?? 'unknown'}. Set AETHER_DEBUG=1 for details.`)
    )
  }
}

installStdioErrorHandlers({
  stdout: process.stdout,
  stderr: process.stderr,
  exit: (code) => process.exit(code),
  currentCode: () => (typeof process.exitCode === 'number' ? process.exitCode : undefined)
})

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    // Lingering handles (keychain D-Bus connection, closing sockets) must not keep the CLI alive.
    setTimeout(() => process.exit(code), 200).unref()
  },
  () => process.exit(1)
)
