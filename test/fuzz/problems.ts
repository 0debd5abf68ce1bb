// The check every config fuzz target makes on what a reader reports: each problem is one
// `file:line: message` line naming a line of the file, as `svcmgr validate config` prints it.
import type { ConfigError } from '../../src/config/errors.js';

/**
 * Also refuse a problem whose text holds a line break or a lone CR (a value echoed with its
 * continuation lines): on by FERRY_FUZZ_ONE_LINE=1 (`npm run fuzz -- --one-line`). Off by
 * default while today's messages still echo such values (docs/fuzzing.md, findings).
 */
export const ONE_LINE = process.env.FERRY_FUZZ_ONE_LINE === '1';

/** Throws (a finding) on the first problem that does not name a real line or is not one line. */
export function checkProblems(file: string, lineCount: number, problems: readonly ConfigError[]): void {
  // an empty file's problems are on line 1, as compilers do
  const last = Math.max(1, lineCount);
  for (const p of problems) {
    const text = p.toString();
    if (!Number.isInteger(p.line) || p.line < 1 || p.line > last) {
      throw new Error(`problem on line ${p.line} of a ${lineCount}-line file: ${JSON.stringify(text)}`);
    }
    if (!text.startsWith(`${file}:${p.line}: `) || p.message.trim().length === 0) {
      throw new Error(`problem not in "file:line: message" form: ${JSON.stringify(text)}`);
    }
    if (ONE_LINE && /[\r\n]/.test(text)) throw new Error(`problem spans several lines: ${JSON.stringify(text)}`);
  }
}
