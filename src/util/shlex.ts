// POSIX-shell-like word splitting for command and argument keywords (`start`, `run_args`):
// `/bin/sh -c "a; b"` becomes ['/bin/sh', '-c', 'a; b'] with no shell involved.
export class ShlexError extends Error {}

export function shlexSplit(input: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw new ShlexError('unterminated single quote');
      cur += input.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      let closed = false;
      while (i < input.length) {
        const d = input[i]!;
        if (d === '"') { closed = true; i++; break; }
        if (d === '\\' && i + 1 < input.length && '"\\$`\n'.includes(input[i + 1]!)) {
          cur += input[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
      if (!closed) throw new ShlexError('unterminated double quote');
    } else if (c === '\\') {
      if (i + 1 < input.length) { cur += input[i + 1]; i += 2; } else { i++; }
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) { words.push(cur); cur = ''; inWord = false; }
      i++;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
