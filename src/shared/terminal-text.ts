/**
 * Making text from elsewhere (a gateway's error message, a close reason, an agent's reply, an
 * Access claim) safe to write to a terminal.
 *
 * A terminal interprets control characters: ESC sequences can recolour or clear the screen,
 * move the cursor over earlier lines, set the window title, write to the clipboard (OSC 52) or
 * fake a hyperlink; a carriage return or backspaces can overwrite what was printed before. None
 * of that belongs in what a remote peer says, so it is removed before printing. Newlines and
 * tabs are kept: replies are multi-line text. Imports nothing (shared by the CLI and the app).
 */

/* eslint-disable no-control-regex */
/**
 * ESC sequences, longest forms first:
 * - CSI: ESC [ parameters intermediates final byte (colours, cursor moves, erase);
 * - OSC, DCS, SOS, PM, APC: ESC ] / P / X / ^ / _ ... up to BEL or ST (ESC \), or the end;
 * - any other ESC plus the one character after it (charset switches, resets).
 * Their 8-bit (C1) introducers are covered by the C1 range below.
 */
const ESC_SEQUENCE = /\u001b(?:\[[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]?|[\]PX^_][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[\s\S]?)/g

/** C0 controls except tab (\u0009) and newline (\u000a), DEL, and the C1 controls. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g
/* eslint-enable no-control-regex */

/** `text` without ESC sequences and control characters (newlines and tabs kept). */
export function sanitizeForTerminal(text: string): string {
  return text.replace(ESC_SEQUENCE, '').replace(CONTROL, '')
}
