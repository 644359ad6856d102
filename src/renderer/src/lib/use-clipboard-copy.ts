/**
 * A Copy button's state: copy text to the clipboard, say "copied" for a moment, and report a
 * refusal (no clipboard permission) so the caller can offer the text for the keyboard instead.
 */
import { useEffect, useState } from 'react'

export type CopyState = 'idle' | 'copied' | 'failed'

/** How long "Copied" (and, when asked, the failure) stays before the button is idle again. */
const SHOWN_MS = 2500

export function useClipboardCopy(text: string, options: { keepFailure: boolean }): { copyState: CopyState; copy: () => Promise<boolean> } {
  const [copyState, setCopyState] = useState<CopyState>('idle')
  const { keepFailure } = options

  useEffect(() => {
    if (copyState === 'idle' || (copyState === 'failed' && keepFailure)) return
    const timer = setTimeout(() => setCopyState('idle'), SHOWN_MS)
    return () => clearTimeout(timer)
  }, [copyState, keepFailure])

  const copy = async (): Promise<boolean> => {
    try {
      await navigator.clipboard.writeText(text)
      setCopyState('copied')
      return true
    } catch {
      setCopyState('failed')
      return false
    }
  }

  return { copyState, copy }
}
