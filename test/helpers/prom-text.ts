// A small strict parser of the Prometheus text exposition format (0.0.4), for tests: it
// throws, naming the line, on anything a scraper could reject or misread — a sample before
// its family's TYPE, a family split in two, a bad name, label or escape, a duplicate series, a
// bad value, a histogram whose buckets are not cumulative or lack +Inf.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

function parseValue(s: string, where: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`${where}: bad value "${s}"`);
  return Number(s);
}

function parseLabels(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without "="`);
    const key = text.slice(i, eq);
    if (!LABEL.test(key)) throw new Error(`${where}: bad label name "${key}"`);
    if (key in out) throw new Error(`${where}: label ${key} twice`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: label ${key} value not quoted`);
    let j = eq + 2;
    let v = '';
    for (;;) {
      if (j >= text.length) throw new Error(`${where}: unterminated value of label ${key}`);
      const c = text[j]!;
      if (c === '"') break;
      if (c === '\\') {
        const n = text[j + 1];
        if (n === 'n') v += '\n';
        else if (n === '\\' || n === '"') v += n;
        else throw new Error(`${where}: bad escape \\${n ?? ''} in label ${key}`);
        j += 2;
      } else if (c === '\n') throw new Error(`${where}: raw newline in label ${key}`);
      else {
        v += c;
        j++;
      }
    }
    out[key] = v;
    i = j + 1;
    if (i < text.length) {
      if (text[i] !== ',') throw new Error(`${where}: expected "," after label ${key}`);
      i++;
    }
  }
  return out;
}

/** the family a sample name belongs to (histogram/summary suffixes) */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  if (families.has(name)) return families.get(name);
  for (const suf of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suf)) {
      const f = families.get(name.slice(0, -suf.length));
      if (f && (f.type === 'histogram' || (f.type === 'summary' && suf !== '_bucket'))) return f;
    }
  }
  return undefined;
}

export function parsePromText(text: string): Map<string, Family> {
  if (text.length && !text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const seen = new Set<string>();
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, idx) => {
    const where = `line ${idx + 1}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
      if (closed.has(name)) throw new Error(`${where}: family ${name} appears twice`);
      if (current && current.name !== name) closed.add(current.name);
      let f = families.get(name);
      if (!f) {
        f = { name, type: 'untyped', help: '', samples: [] };
        families.set(name, f);
      }
      if (kind === 'TYPE') {
        if (!TYPES.includes(rest)) throw new Error(`${where}: bad type "${rest}"`);
        if (f.samples.length) throw new Error(`${where}: TYPE of ${name} after its samples`);
        f.type = rest as Family['type'];
      } else f.help = rest;
      current = f;
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`${where}: not a sample: ${line}`);
    const name = m[1]!;
    const labels = parseLabels(m[2] ?? '', where);
    const value = parseValue(m[3]!, where);
    const f = familyOf(name, families);
    if (!f) throw new Error(`${where}: sample ${name} without a TYPE`);
    if (f !== current) throw new Error(`${where}: sample ${name} outside its family's block`);
    const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (seen.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    seen.add(key);
    if ((f.type === 'counter' || name.endsWith('_bucket') || name.endsWith('_count')) && !(value >= 0)) throw new Error(`${where}: ${name} negative or NaN`);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, Sample[]>();
  for (const s of f.samples.filter((x) => x.name === `${f.name}_bucket`)) {
    const { le, ...rest } = s.labels;
    if (le === undefined) throw new Error(`${f.name}: bucket without le`);
    const k = JSON.stringify(Object.entries(rest).sort());
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  for (const [k, bs] of groups) {
    const sorted = [...bs].sort((a, b) => parseValue(a.labels.le!, f.name) - parseValue(b.labels.le!, f.name));
    if (sorted.at(-1)!.labels.le !== '+Inf') throw new Error(`${f.name}${k}: no +Inf bucket`);
    for (let i = 1; i < sorted.length; i++) if (sorted[i]!.value < sorted[i - 1]!.value) throw new Error(`${f.name}${k}: buckets not cumulative`);
    const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(Object.entries(s.labels).sort()) === k);
    if (!count || count.value !== sorted.at(-1)!.value) throw new Error(`${f.name}${k}: _count differs from the +Inf bucket`);
  }
}

/** The value of the one sample of `name` whose labels include `labels` (throws if none or several). */
export function sampleValue(fams: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const all = [...fams.values()].flatMap((f) => f.samples).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (all.length !== 1) throw new Error(`${all.length} samples of ${name}${JSON.stringify(labels)}`);
  return all[0]!.value;
}

/** Every sample of `name` (any labels). */
export function samplesOf(fams: Map<string, Family>, name: string): Sample[] {
  return [...fams.values()].flatMap((f) => f.samples).filter((s) => s.name === name);
}
