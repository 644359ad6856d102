/**
 * A command to run elsewhere (the pairing approval on the gateway host), with a Copy button.
 * The button keeps its name; "Copied" appears next to it, so tests and screen readers find both.
 */
import { useRef } from 'react'
import { useClipboardCopy } from '../../lib/use-clipboard-copy'

export function CopyCommand({ command, testId = 'pairing-command' }: { command: string; testId?: string }) {
  const { copyState, copy: copyToClipboard } = useClipboardCopy(command, { keepFailure: false })
  const codeRef = useRef<HTMLElement>(null)

  const copy = async () => {
    if (await copyToClipboard()) return
    // No clipboard permission: select the text so Ctrl+C works.
    const code = codeRef.current
    const selection = window.getSelection()
    if (code && selection) {
      const range = document.createRange()
      range.selectNodeContents(code)
      selection.removeAllRanges()
      selection.addRange(range)
    }
  }

  return (
    <div className="command-box">
      <code ref={codeRef} data-testid={testId}>
        {command}
      </code>
      <button type="button" className="button button--small" onClick={() => void copy()}>
        Copy
      </button>
      <span className="copy-state" role="status">
        {copyState === 'copied' ? 'Copied' : copyState === 'failed' ? 'Could not copy; the command is selected, copy it with the keyboard' : ''}
      </span>
    </div>
  )
}
