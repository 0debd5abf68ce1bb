// Text from outside (values, keys, file names) quoted in a message an operator reads: a
// message is one line, so every control character is escaped, JSON style (\n, \r, \t,
// \u001b). A lone CR would otherwise move the cursor back and overwrite the message, an
// LF split it in two, an ESC sequence repaint the terminal.

// C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** `s` with every control character escaped (no quotes added): safe inside a one-line message. */
export function oneLine(s: string): string {
  return s.replace(CONTROL, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `s` in double quotes, JSON style: `"`, `\` and control characters escaped; one line whatever it holds. */
export function quote(s: string): string {
  return oneLine(JSON.stringify(s));
}

/** Does `s` hold a control character other than tab and the LF of continuation lines? */
export function controlCharacter(s: string): string | undefined {
  for (const m of s.matchAll(CONTROL)) if (m[0] !== '\t' && m[0] !== '\n') return m[0];
  return undefined;
}
