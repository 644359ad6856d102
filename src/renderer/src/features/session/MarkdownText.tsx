/**
 * An assistant reply as Markdown (GitHub flavour: tables, task lists, strikethrough).
 *
 * Raw HTML in a reply is dropped (`skipHtml`; react-markdown never renders it anyway), unsafe
 * link protocols are stripped by react-markdown's default URL transform, and links never
 * navigate this window: a click goes to the system browser through the main process. Images are
 * not loaded (that would be a request to wherever the reply points); they become links.
 */
import { memo, type MouseEvent, type ReactNode } from 'react'
import Markdown, { type Components } from 'react-markdown'
import remarkGfm from 'remark-gfm'
import { getApi } from '../../lib/api'
import { useUi } from '../../stores/ui-store'

async function openExternal(href: string) {
  const opened = await getApi().shell.openExternal(href)
  if (!opened.ok) useUi.getState().announce(`Could not open the link: ${opened.error.message}`)
}

function ExternalLink({ href, children }: { href?: string; children?: ReactNode }) {
  const follow = (e: MouseEvent<HTMLAnchorElement>) => {
    e.preventDefault()
    if (href) void openExternal(href)
  }
  return (
    <a
      href={href}
      title={href}
      onClick={follow}
      // A middle click would otherwise open a new Electron window.
      onAuxClick={(e) => e.preventDefault()}
      rel="noreferrer noopener"
    >
      {children}
    </a>
  )
}

const components: Components = {
  a: ({ href, children }) => <ExternalLink href={href}>{children}</ExternalLink>,
  img: ({ src, alt }) =>
    typeof src === 'string' && src !== '' ? <ExternalLink href={src}>{`[image: ${alt || src}]`}</ExternalLink> : <span>{alt ? `[image: ${alt}]` : null}</span>,
  table: ({ children }) => (
    <div className="table-scroll">
      <table>{children}</table>
    </div>
  )
}

const remarkPlugins = [remarkGfm]

export const MarkdownText = memo(function MarkdownText({ text }: { text: string }) {
  return (
    <div className="markdown">
      <Markdown remarkPlugins={remarkPlugins} skipHtml components={components}>
        {text}
      </Markdown>
    </div>
  )
})
