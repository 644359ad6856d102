/**
 * The conversation, windowed: only the messages in (and just around) the viewport are in the
 * DOM, so a session with thousands of messages scrolls as fast as a short one. Heights are
 * measured as messages render (a streaming reply grows), and the list follows the newest message
 * unless the user has scrolled up to read.
 */
import { useEffect, useLayoutEffect, useRef, type ReactNode } from 'react'
import { measureElement, observeElementRect, useVirtualizer, type Virtualizer } from '@tanstack/react-virtual'
import type { Rect } from '@tanstack/react-virtual'
import { hideUrls } from '../../lib/safe-text'
import { messageStatus, type UiMessage } from '../../stores/session-store'
import { MarkdownText } from './MarkdownText'

/**
 * Viewport assumed while the list has no layout yet (a hidden view, a DOM without layout): big
 * enough to show a screenful of messages rather than none.
 */
const FALLBACK_RECT: Rect = { width: 800, height: 1200 }

function observeRectWithFallback(instance: Virtualizer<HTMLDivElement, Element>, cb: (rect: Rect) => void) {
  return observeElementRect(instance, (rect) => cb(rect.height > 0 ? rect : FALLBACK_RECT))
}

/** A first guess at a message's height, until it is measured. */
const ESTIMATED_HEIGHT = 96

/**
 * A message with no layout measures 0; counted as 0 it would pull every message into the window
 * (and each of those measures 0 too). The estimate keeps the window a window.
 */
function measureWithFallback(element: Element, entry: ResizeObserverEntry | undefined, instance: Virtualizer<HTMLDivElement, Element>) {
  const size = measureElement(element, entry, instance)
  return size > 0 ? size : ESTIMATED_HEIGHT
}

/** How close to the end (px) still counts as "at the bottom", i.e. following new messages. */
const FOLLOW_SLACK = 48

export interface MessageListProps {
  messages: UiMessage[]
  /** Shown instead of the list when there are no messages. */
  empty: ReactNode
  onRetry(messageId: string): void
  onDiscard(messageId: string): void
}

export function MessageList({ messages, empty, onRetry, onDiscard }: MessageListProps) {
  const scrollRef = useRef<HTMLDivElement>(null)
  const following = useRef(true)

  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ESTIMATED_HEIGHT,
    measureElement: measureWithFallback,
    overscan: 6,
    getItemKey: (index) => messages[index]?.id ?? index,
    observeElementRect: observeRectWithFallback,
    initialRect: FALLBACK_RECT
  })

  const last = messages[messages.length - 1]
  const lastText = last?.text
  const lastIsOwnNew = last?.role === 'user' && last.delivery === 'sending'
  // Follow the conversation: new messages and a growing reply keep the end in view, and a
  // message the user just sent brings them back to the end even if they had scrolled up.
  useLayoutEffect(() => {
    if (messages.length === 0) return
    if (lastIsOwnNew) following.current = true
    if (following.current) virtualizer.scrollToIndex(messages.length - 1, { align: 'end' })
  }, [messages.length, lastText, lastIsOwnNew, virtualizer])

  useEffect(() => {
    const el = scrollRef.current
    if (!el) return
    const onScroll = () => {
      following.current = el.scrollHeight - el.scrollTop - el.clientHeight <= FOLLOW_SLACK
    }
    el.addEventListener('scroll', onScroll, { passive: true })
    return () => el.removeEventListener('scroll', onScroll)
  }, [])

  return (
    <div ref={scrollRef} className="message-list" data-testid="message-list" data-count={messages.length} role="region" aria-label="Messages" tabIndex={0}>
      {messages.length === 0 ? (
        <div className="empty-state">{empty}</div>
      ) : (
        <div className="message-list__canvas" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const message = messages[item.index]
            if (!message) return null
            return (
              <div
                key={item.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className="message-list__row"
                style={{ transform: `translateY(${item.start}px)` }}
              >
                <MessageItem message={message} onRetry={onRetry} onDiscard={onDiscard} />
              </div>
            )
          })}
        </div>
      )}
    </div>
  )
}

const AUTHOR: Record<UiMessage['role'], string> = { user: 'You', assistant: 'Assistant', system: 'System', tool: 'Tool' }

function MessageItem({ message, onRetry, onDiscard }: { message: UiMessage; onRetry(id: string): void; onDiscard(id: string): void }) {
  const status = messageStatus(message)
  return (
    <article className={`message message--${message.role} message--${status}`} data-testid="message" data-role={message.role} data-status={status} data-message-id={message.id} aria-label={AUTHOR[message.role]}>
      <header className="message__author">{AUTHOR[message.role]}</header>
      <div className="message__body">
        {message.role === 'user' ? (
          <p className="message__plain">{message.text}</p>
        ) : message.text === '' && status === 'streaming' ? (
          <p className="message__typing" aria-label="The assistant is replying">
            <span aria-hidden="true">…</span>
          </p>
        ) : (
          <MarkdownText text={message.text} />
        )}
      </div>
      {status === 'sending' && <p className="message__note">Sending…</p>}
      {status === 'aborted' && <p className="message__note">Stopped.</p>}
      {status === 'error' && (
        <p className="message__note message__note--error" role="alert">
          The reply failed{message.error ? `: ${hideUrls(message.error)}` : '.'}
        </p>
      )}
      {status === 'failed' && (
        <div className="message__failed" role="alert">
          <p>
            Not sent{message.sendError ? `: ${hideUrls(message.sendError.title)}. ${hideUrls(message.sendError.message)}` : '.'}
          </p>
          <div className="button-row">
            <button type="button" className="button button--small" onClick={() => onRetry(message.id)}>
              Retry sending
            </button>
            <button type="button" className="button button--small" onClick={() => onDiscard(message.id)}>
              Discard
            </button>
          </div>
        </div>
      )}
    </article>
  )
}
