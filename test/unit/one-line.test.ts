// Issue 8: every problem is one line, whatever the text quoted in it holds.
import test from 'ava';
import { controlCharacter, oneLine, quote } from '../../src/util/one-line.js';
import { ConfigError } from '../../src/config/errors.js';

test('oneLine escapes every control character JSON style, and only those', (t) => {
  t.is(oneLine('a\nb\rc\td\be\ff'), 'a\\nb\\rc\\td\\be\\ff');
  t.is(oneLine('\u0000\u001b[2J\u007f\u0085\u009f\u2028\u2029'), '\\u0000\\u001b[2J\\u007f\\u0085\\u009f\\u2028\\u2029');
  t.is(oneLine('plain "text" \\ é ✓'), 'plain "text" \\ é ✓');
});

test('quote is JSON.stringify made one line', (t) => {
  t.is(quote('soon'), '"soon"');
  t.is(quote('a"b\\c'), '"a\\"b\\\\c"');
  t.is(quote('1\r2\n3'), '"1\\r2\\n3"');
  t.is(quote('\u0085\u2028'), '"\\u0085\\u2028"');
  for (let c = 0; c < 0x10000; c++) {
    const q = quote(`x${String.fromCharCode(c)}y`);
    t.false(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(q), `U+${c.toString(16)}`);
  }
});

test('controlCharacter ignores tab and the LF of continuation lines', (t) => {
  t.is(controlCharacter('a\tb\nc'), undefined);
  t.is(controlCharacter('a\rb'), '\r');
  t.is(controlCharacter('\u001b[31m'), '\u001b');
});

test('a ConfigError is one line, its file name included', (t) => {
  const e = new ConfigError('/etc/a\nb.env', 3, 'bad value "x\ry"');
  t.is(e.message, 'bad value "x\\ry"');
  t.is(String(e), '/etc/a\\nb.env:3: bad value "x\\ry"');
});
