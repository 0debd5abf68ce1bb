// Markdown reference of the cluster file keywords, generated from the tables in keywords.ts.
// docs/heartbeats.md embeds it between markers; a unit test fails when that copy is stale.
import type { Keyword, KeywordValue } from '../vocab/keywords.js';
import { clusterSections } from './keywords.js';

export const DOC_BEGIN = '<!-- cluster keywords: generated from src/cluster/keywords.ts, do not edit -->';
export const DOC_END = '<!-- end of cluster keywords -->';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (s: string): string => (s.length === 0 ? '' : `\`${s}\``);
const dflt = (v: KeywordValue | undefined): string =>
  v === undefined ? '' : Array.isArray(v) ? (v.length === 0 ? '(empty)' : code(v.join(' '))) : code(String(v));

function table(keywords: readonly Keyword[]): string[] {
  const rows = ['| keyword | type | default | required | scopable | hb types | description |', '|---|---|---|---|---|---|---|'];
  for (const k of keywords) {
    const type = k.candidates ? `${k.type}: ${k.candidates.map(code).join(', ')}` : k.type;
    rows.push(`| ${[code(k.name), type, dflt(k.default), k.required ? 'yes' : '', k.scopable ? 'yes' : '', (k.types ?? []).map(code).join(', '), k.description].map(cell).join(' | ')} |`);
  }
  return rows;
}

/** The keyword reference, markers included. Durations are shown in milliseconds. */
export function clusterKeywordsDoc(): string {
  const out = [DOC_BEGIN, ''];
  for (const s of clusterSections) out.push(`### ${s.title.replace(/</g, '\\<').replace(/>/g, '\\>')}`, '', ...table(s.table), '');
  out.push(DOC_END);
  return out.join('\n');
}
