// The reader keeps values byte for byte and knows where everything came from.
import test from 'ava';
import { parseDocument } from '../../src/config/document.js';
import { buildServiceConfig } from '../../src/config/load.js';
import { opts } from './config-fake-drivers.js';

const entry = (text: string, section: string, key: string) =>
  parseDocument(text, 'f.env').doc.sections.find((s) => s.name === section)?.entries.find((e) => e.key === key);

test('values keep ; # quotes = and trailing blanks', (t) => {
  const text = [
    '[app#1]',
    'start = /bin/sh -c "echo a; echo b"',
    "stop = /bin/sh -c 'x=1 # not a comment' ; y",
    'check = a=b=c  ',
    '; a comment',
    '# another',
    'info =',
  ].join('\n');
  const { doc, errors } = parseDocument(text, 'f.env');
  t.deepEqual(errors, []);
  const [start, stop, check, info] = doc.sections[0]!.entries;
  t.is(start!.value, '/bin/sh -c "echo a; echo b"');
  t.is(stop!.value, "/bin/sh -c 'x=1 # not a comment' ; y");
  t.is(check!.value, 'a=b=c  ');
  t.is(check!.line, 4);
  t.is(info!.value, '');
  t.is(info!.line, 7);
  t.false(doc.finalEol);
});

test('CRLF files: \\r never reaches a value, lines counted the same', (t) => {
  const text = '[DEFAULT]\r\nnodes = a b\r\n\r\n[app#1]\r\nstart = /bin/true ; x \r\n';
  const { doc, errors } = parseDocument(text, 'f.env');
  t.deepEqual(errors, []);
  t.is(doc.eol, '\r\n');
  t.true(doc.finalEol);
  const e = doc.sections[1]!.entries[0]!;
  t.is(e.value, '/bin/true ; x ');
  t.is(e.line, 5);
});

test('continuation lines join with \\n; comments inside are skipped; blank line ends the value', (t) => {
  const text = ['[env]', 'a = one', '  two', '# c', '    three', '', 'b = x'].join('\n');
  const a = entry(text, 'env', 'a')!;
  t.is(a.value, 'one\ntwo\nthree');
  t.is(a.line, 2);
  t.is(a.endLine, 5);
  t.is(entry(text, 'env', 'b')!.line, 7);
});

test('scoped keys and section names with # and subsets', (t) => {
  const text = '[subset#container.docker:01app]\nparallel = true\n[container#1]\nrun_image@node1 = x\n';
  const { doc } = parseDocument(text, 'f.env');
  t.deepEqual(doc.sections.map((s) => s.name), ['subset#container.docker:01app', 'container#1']);
  const e = doc.sections[1]!.entries[0]!;
  t.is(e.key, 'run_image');
  t.is(e.scope, 'node1');
});

test('start = /bin/sh -c "echo a; echo b" reaches TableValues unchanged', (t) => {
  const text = '[app#1]\nstart = /bin/sh -c "echo a; echo b"\nstop = /bin/echo "#x" \\; ok \n';
  const r = buildServiceConfig(text, 'f.env', opts());
  t.deepEqual(r.errors, []);
  const kw = r.config!.resources[0]!.kw;
  t.is(kw.string('start'), '/bin/sh -c "echo a; echo b"');
  t.is(kw.string('stop'), '/bin/echo "#x" \\; ok ');
});

test('syntax errors carry their line', (t) => {
  const text = ['orphan = 1', '[DEFAULT', '[ip#1] x', '[]', '[app#1]', 'no equals here', ' = v', 'a b = c', 'k@ = v'].join('\n');
  const { errors } = parseDocument(text, 'f.env');
  t.deepEqual(errors.map((e) => e.toString()), [
    'f.env:1: keyword "orphan" outside of any section',
    "f.env:2: malformed section header [DEFAULT: missing ']'",
    "f.env:3: malformed section header [ip#1] x: text after ']'",
    'f.env:4: empty section name []',
    'f.env:6: expected "keyword = value", "[section]" or a comment, got: no equals here',
    'f.env:7: missing keyword before "="',
    'f.env:8: malformed keyword "a b": blanks inside a keyword',
    'f.env:9: malformed keyword "k@"',
  ]);
});

test('mixed line endings: lines counted the same, new lines get the majority style', (t) => {
  const { doc } = parseDocument('[env]\r\na = 1\nb = 2\r\nc = 3\r\n', 'f.env');
  t.is(doc.eol, '\r\n');
  t.deepEqual(doc.sections[0]!.entries.map((e) => [e.key, e.value, e.line]), [['a', '1', 2], ['b', '2', 3], ['c', '3', 4]]);
  t.is(parseDocument('[env]\na = 1\nb = 2\r\n', 'f.env').doc.eol, '\n');
});
