// Text from the server (names, config, call errors, a function's output within them) as safe to
// print on a terminal: control characters are shown as escapes, never obeyed. An ESC could
// otherwise retitle the window, clear the screen or colour a forged row; a CR or LF in a table
// cell would forge rows.

// C0 controls, DEL and C1 controls (U+009B is a one-character CSI on some terminals).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

const escape = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** One line of text: every control character escaped (`\x1b`), newlines and tabs too. */
export function printable(text: string): string {
  return text.replace(CONTROL, escape);
}

/** Text that may run over lines (an error message): newlines and tabs kept, other controls escaped. */
export function printableLines(text: string): string {
  return text.replace(CONTROL_BUT_LINES, escape);
}
