// Scoping precedence and references.
import test from 'ava';
import { parseDocument } from '../../src/config/document.js';
import { findReferences, RefError, Resolver } from '../../src/config/resolve.js';
import { opts } from './config-fake-drivers.js';

const resolver = (text: string, nodename = 'node1') => new Resolver(parseDocument(text, 'f.env').doc, opts(nodename));
const eff = (r: Resolver, s: string, k: string) => r.effective(s, k)?.value;

test('key@node beats key@nodes beats key, whatever the order', (t) => {
  const text = ['[DEFAULT]', 'nodes = node1 node2', '[ip#1]', 'ipname@node1 = n1', 'ipname@nodes = all', 'ipname = plain'].join('\n');
  t.is(eff(resolver(text, 'node1'), 'ip#1', 'ipname'), 'n1');
  t.is(eff(resolver(text, 'node2'), 'ip#1', 'ipname'), 'all');
  t.is(eff(resolver(text, 'node3'), 'ip#1', 'ipname'), 'plain');
});

test('later definition wins at equal rank; aliases are the same keyword', (t) => {
  const text = ['[ip#1]', 'ipname = first', 'name = second', 'ipdev@node1 = a', 'dev@node1 = b'].join('\n');
  const r = resolver(text);
  t.is(eff(r, 'ip#1', 'ipname'), 'second');
  t.is(eff(r, 'ip#1', 'name'), 'second');
  t.is(eff(r, 'ip#1', 'ipdev'), 'b');
});

test('@nodes with empty nodes means this node; @drpnodes applies to drp nodes only', (t) => {
  t.is(eff(resolver('[ip#1]\nipname = a\nipname@nodes = b\n'), 'ip#1', 'ipname'), 'b');
  const text = '[DEFAULT]\nnodes = n1\ndrpnodes = d1\n[ip#1]\nipname = a\nipname@drpnodes = d\n';
  t.is(eff(resolver(text, 'n1'), 'ip#1', 'ipname'), 'a');
  t.is(eff(resolver(text, 'd1'), 'ip#1', 'ipname'), 'd');
});

test('node scope is case-insensitive (host names are)', (t) => {
  t.is(eff(resolver('[ip#1]\nipname = a\nipname@NODE1 = b\n', 'node1'), 'ip#1', 'ipname'), 'b');
});

const resolveAt = (text: string, section: string, key: string, nodename = 'deb1.example.com') => {
  const r = new Resolver(parseDocument(text, 'f.env').doc, opts(nodename, 'websvc'));
  return r.resolveEntry(section, r.effective(section, key)!);
};

test('plain references: nodename, short_nodename, svcname, name, rid', (t) => {
  const text = '[app#web]\nstart = /x {nodename} {short_nodename} {svcname} {name} {rid}\n';
  t.is(resolveAt(text, 'app#web', 'start'), '/x deb1.example.com deb1 websvc websvc app#web');
});

test('section references: env, DEFAULT, another section by alias, defaults, recursion', (t) => {
  const text = [
    '[DEFAULT]',
    'app = APP1',
    '[env]',
    'base = /srv/{svcname}',
    'data = {env.base}/data',
    '[ip#1]',
    'ipname = {short_nodename}-vip',
    'ipdev = eth0',
    '[app#1]',
    'start = /bin/run {env.data} {ip#1.name} {ip#1.ipname} {DEFAULT.app} {DEFAULT.orchestrate} {app#1.timeout}',
  ].join('\n');
  t.is(resolveAt(text, 'app#1', 'start'), '/bin/run /srv/websvc/data deb1-vip deb1-vip APP1 no 60s');
});

test('references use the value scoped for this node', (t) => {
  const text = '[env]\nport = 1\nport@node2 = 2\n[app#1]\nstart = /x {env.port}\n';
  t.is(resolveAt(text, 'app#1', 'start', 'node2'), '/x 2');
  t.is(resolveAt(text, 'app#1', 'start', 'node1'), '/x 1');
});

test('literal braces pass through untouched', (t) => {
  const values = [
    '/bin/sh -c "echo ${HOME} ${env.x}"',
    "awk '{print $1}'",
    'find / -exec rm {} \\;',
    "docker ps --format '{{.ID}} {{.Names}}'",
    '{{nodename}}',
    "echo {a,b} {1..3} {-x} {a b} awk '{ print }' {0.real} {1}",
    'echo {not.a.ref} {.x} {x.} {env.with space} {env.k-1}',
    'json {"a": 1}',
    'echo "{""nodename}"',
  ];
  for (const v of values) {
    t.deepEqual(findReferences(v), [], v);
    t.is(resolveAt(`[app#1]\nstart = ${v}\n`, 'app#1', 'start'), v);
  }
});

const refError = (text: string, section: string, key: string): RefError => {
  const err = t_throws(() => resolveAt(text, section, key));
  if (!(err instanceof RefError)) throw new Error('expected a RefError');
  return err;
};
function t_throws(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

test('unknown references are errors at the line that writes them', (t) => {
  const cases: [string, string][] = [
    ['{env.nope}', 'unknown reference {env.nope}: env.nope is not set'],
    ['{ip#9.ipname}', 'unknown reference {ip#9.ipname}: no section [ip#9]'],
    ['{app#1.nosuch}', 'unknown reference {app#1.nosuch}: no keyword "nosuch" in [app#1]'],
    ['{DEFAULT.nosuch}', 'unknown reference {DEFAULT.nosuch}: no keyword "nosuch" in [DEFAULT]'],
    ['{DEFAULT.comment}', 'unknown reference {DEFAULT.comment}: DEFAULT.comment is not set and has no default'],
  ];
  for (const [ref, msg] of cases) {
    const e = refError(`[env]\nx = 1\n[app#1]\nstart = /x ${ref}\n`, 'app#1', 'start');
    t.is(e.line, 4);
    t.is(e.message, msg);
  }
  // nested: reported where the bad reference is written
  const nested = refError('[env]\na = {env.b}\nb = {env.zz}\n', 'env', 'a');
  t.is(nested.line, 3);
});

test('a word in braces is a reference: an unknown one is an error, never kept as text', (t) => {
  const names = 'not one of {nodename}, {short_nodename}, {svcname}, {name}, {rid}';
  const cases: [string, string][] = [
    ['{nodenam}', `unknown reference {nodenam}: ${names}`],
    ["awk '{print}'", `unknown reference {print}: ${names}`],
    ['{NODENAME}', `unknown reference {NODENAME}: ${names}`],
    ['{Default.app}', 'unknown reference {Default.app}: no section [Default]'],
    ['{foo.bar}', 'unknown reference {foo.bar}: no section [foo]'],
  ];
  for (const [ref, msg] of cases) {
    t.deepEqual(findReferences(ref).length, 1, ref);
    const e = refError(`[env]\nx = 1\n[app#1]\nstart = /x ${ref}\n`, 'app#1', 'start');
    t.is(e.line, 4);
    t.is(e.message, msg);
  }
});

test('every bad reference of a value is reported, nested ones at their own line', (t) => {
  const text = '[env]\nb = {env.zz}\n[app#1]\nstart = /x {env.a} {nodenam} {env.b} {ip#1.ipname} {env.a}\n';
  const r = new Resolver(parseDocument(text, 'f.env').doc, opts('node1'));
  const res = r.resolveEntryAll('app#1', r.effective('app#1', 'start')!);
  t.false(res.ok);
  if (res.ok) return;
  t.deepEqual(res.errors.map((e) => `${e.line}: ${e.message}`), [
    '4: unknown reference {env.a}: env.a is not set',
    '4: unknown reference {nodenam}: not one of {nodename}, {short_nodename}, {svcname}, {name}, {rid}',
    '2: unknown reference {env.zz}: env.zz is not set',
    '4: unknown reference {ip#1.ipname}: no section [ip#1]',
    '4: unknown reference {env.a}: env.a is not set',
  ]);
  // resolveEntry throws the first
  t.is(refError(text, 'app#1', 'start').message, 'unknown reference {env.a}: env.a is not set');
});

test('a resolution says whether it depends on the node', (t) => {
  const text = '[env]\na = 1\nb = 2\nb@node2 = 3\n[app#1]\nstart = /x {env.a}\nstop = /x {env.b}\nmonitor = {short_nodename}\n';
  const r = new Resolver(parseDocument(text, 'f.env').doc, opts('node1'));
  const dep = (k: string) => r.resolveEntryAll('app#1', r.section('app#1')!.entries.find((e) => e.key === k)!).nodeDependent;
  t.false(dep('start'));
  t.true(dep('stop'));
  t.true(dep('monitor'));
});

test('reference cycles are detected and reported from the entry resolved', (t) => {
  const text = '[env]\na = x{env.b}\nb = y{env.c}\nc = {env.a}\nself = {env.self}\n';
  const a = refError(text, 'env', 'a');
  t.is(a.line, 2);
  t.is(a.message, 'reference cycle: {env.a} -> {env.b} -> {env.c} -> {env.a}');
  const c = refError(text, 'env', 'c');
  t.is(c.line, 4);
  t.is(c.message, 'reference cycle: {env.c} -> {env.a} -> {env.b} -> {env.c}');
  t.is(refError(text, 'env', 'self').message, 'reference cycle: {env.self} -> {env.self}');
});
