import { EventEmitter } from 'node:events'
import { existsSync, openSync, closeSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { installStdioErrorHandlers } from '../../../src/cli/stdio'
import { spawnCli } from './spawn-cli'

function fakes(currentCode?: number) {
  const stdout = new EventEmitter()
  const stderr = Object.assign(new EventEmitter(), { written: [] as string[], write(t: string) { stderr.written.push(t); return true } })
  const exits: number[] = []
  installStdioErrorHandlers({ stdout, stderr, exit: (c) => exits.push(c), currentCode: () => currentCode })
  return { stdout, stderr, exits }
}

const errno = (code: string) => Object.assign(new Error(`write ${code}`), { code })

describe('write errors on stdout and stderr', () => {
  it('EPIPE ends quietly with the exit code so far', () => {
    const a = fakes()
    a.stdout.emit('error', errno('EPIPE'))
    expect(a.exits).toEqual([0])
    expect(a.stderr.written).toEqual([])
    const b = fakes(5)
    b.stderr.emit('error', errno('EPIPE'))
    expect(b.exits).toEqual([5])
  })
  it('another error on stdout ends with 1 and one line on stderr', () => {
    const f = fakes()
    f.stdout.emit('error', errno('ENOSPC'))
    expect(f.exits).toEqual([1])
    expect(f.stderr.written).toHaveLength(1)
    expect(f.stderr.written[0]).toMatch(/^error: could not write the output \(ENOSPC: no space left on the device\)\.\n$/)
  })
  it('an error on stderr itself ends with 1 without writing to it', () => {
    const f = fakes()
    f.stderr.emit('error', errno('EIO'))
    expect(f.exits).toEqual([1])
    expect(f.stderr.written).toEqual([])
  })
  it('handles only the first error', () => {
    const f = fakes()
    f.stdout.emit('error', errno('ENOSPC'))
    f.stderr.emit('error', errno('ENOSPC'))
    expect(f.exits).toEqual([1])
  })
})

describe('the real CLI', () => {
  it('with stdout closed early (| head -c 3): no stack, exit code unchanged', async () => {
    const cli = spawnCli(['help'])
    cli.child.stdout!.destroy()
    const exit = await cli.exited
    expect(exit.code).toBe(0)
    expect(cli.stderr()).toBe('')
  }, 30_000)

  it.skipIf(!existsSync('/dev/full'))('with stdout on a full device (> /dev/full): one line, exit 1', async () => {
    const fd = openSync('/dev/full', 'w')
    try {
      const cli = spawnCli(['help'], { stdio: ['ignore', fd, 'pipe'] })
      const exit = await cli.exited
      expect(exit.code).toBe(1)
      expect(cli.stderr()).toBe('error: could not write the output (ENOSPC: no space left on the device).\n')
    } finally {
      closeSync(fd)
    }
  }, 30_000)
})
