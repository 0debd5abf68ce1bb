// The keywords of triggers and requirements (OpenSVC v1): `pre_start`, `blocking_post_stop`...
// commands run around an action, in [DEFAULT] (around the whole action) and in every resource
// section (around that resource's part); `start_requires` / `stop_requires` = `rid(state,...)`
// words naming the state another resource must be in first. This file holds their table and
// the requirement syntax; running them is the service layer's job (src/service/triggers.ts,
// src/service/requires.ts).
import type { Keyword, KeywordValue } from '../vocab/keywords.js';
import type { Status } from '../vocab/status.js';
import { shlexSplit } from '../util/shlex.js';

export type TriggerAction = 'start' | 'stop';
export type TriggerWhen = 'pre' | 'post';
export const triggerActions: readonly TriggerAction[] = ['start', 'stop'];

/** `pre_start`, `blocking_pre_start`, ... */
export function triggerKeyword(when: TriggerWhen, action: TriggerAction, blocking: boolean): string {
  return `${blocking ? 'blocking_' : ''}${when}_${action}`;
}

export const defaultTriggerTimeoutMs = 60_000;

/** every trigger keyword name */
export const triggerKeywords: readonly string[] = triggerActions.flatMap((a) =>
  (['pre', 'post'] as const).flatMap((w) => [triggerKeyword(w, a, false), triggerKeyword(w, a, true)]),
);

const SHELL_WORDS = new Set(['|', '||', '&&', ';', '&', '>', '>>', '<', '2>', '2>&1']);

/**
 * A shell operator written as a word of a trigger (`a.sh && b.sh`, `x; y`): v1 guessed a shell
 * from `|`, `&&` or `;`, ferry runs no shell, so the operator would reach the program as an
 * argument. The operator, or undefined (and undefined for a value that does not split).
 */
export function shellOperator(raw: string): string | undefined {
  let words: string[];
  try {
    words = shlexSplit(raw);
  } catch {
    return undefined;
  }
  for (const w of words) {
    if (SHELL_WORDS.has(w)) return w;
    if (w.length > 1 && w.endsWith(';')) return ';';
  }
  return undefined;
}

function triggerTable(scope: 'service' | 'resource'): Keyword[] {
  const around = scope === 'service' ? 'the whole action of the service (not a --rid/--subset one)' : "this resource's start or stop";
  const out: Keyword[] = [];
  for (const action of triggerActions) {
    for (const when of ['pre', 'post'] as const) {
      for (const blocking of [false, true]) {
        const moment = when === 'pre' ? 'before' : 'after';
        const failure = blocking
          ? when === 'pre'
            ? `its failure (non-zero exit, timeout) aborts the ${action}${scope === 'resource' ? ' before the resource is touched' : ' before any resource'}`
            : action === 'start'
              ? 'its failure fails the start, which is then rolled back'
              : 'its failure fails the stop'
          : 'a failure is logged (event service.trigger.failed) and the action goes on';
        out.push({
          name: triggerKeyword(when, action, blocking),
          type: 'shlex',
          scopable: true,
          description: `Command run ${moment} ${around}${when === 'pre' && !blocking ? `, before blocking_pre_${action}` : ''}${when === 'post' && !blocking ? `, before blocking_post_${action}` : ''}; ${failure}. Shlex-split and run without a shell (write \`/bin/sh -c "..."\` for one), with OPENSVC_SVCNAME, OPENSVC_ACTION${scope === 'resource' ? ', OPENSVC_RID' : ''} in its environment, within trigger_timeout (docs/triggers.md).`,
        });
      }
    }
  }
  return out;
}

const timeoutHelp = 'Time limit of each trigger command; past it the command\'s process group gets SIGTERM, SIGKILL 2 s later, and the trigger counts as failed.';

/** [DEFAULT]: service-level triggers */
export const serviceTriggerKeywords: Keyword[] = [
  ...triggerTable('service'),
  { name: 'trigger_timeout', type: 'duration', default: defaultTriggerTimeoutMs, scopable: true, description: `${timeoutHelp} Resources inherit it.` },
];

/** every resource section: its triggers and requirements */
export const resourceTriggerKeywords: Keyword[] = [
  ...triggerTable('resource'),
  { name: 'trigger_timeout', type: 'duration', scopable: true, description: `${timeoutHelp} Default: trigger_timeout of [DEFAULT].` },
  ...triggerActions.map((action): Keyword => ({
    name: `${action}_requires`,
    type: 'string',
    scopable: true,
    check: (v) => requiresError(v),
    description: `Before this resource ${action === 'start' ? 'starts' : 'stops'}, the named resources must be in the given states, else its ${action} fails (nothing run): whitespace-separated \`rid(state[,state...])\`, e.g. \`fs#1(up) ip#1(up,stdby up)\`; a bare \`rid\` means \`up\` or \`stdby up\`. States: ${'up, down, warn, n/a, undef, stdby up, stdby down'}. A resource already ${action === 'start' ? 'up' : 'down'} is not checked.`,
  })),
];

export const requiresKeywords: readonly string[] = triggerActions.map((a) => `${a}_requires`);

/** The states a requirement may name: every resource status. */
export const requireStates = ['up', 'down', 'warn', 'n/a', 'undef', 'stdby up', 'stdby down'] as const satisfies readonly Status[];

export interface Requirement {
  rid: string;
  /** any of these */
  states: Status[];
}

const RID = /^[A-Za-z0-9_]+#[A-Za-z0-9_-]+$/;

/** Parse `fs#1(up) ip#1(up,stdby up) app#2`; an error names the offending word. */
export function parseRequires(text: string): { requirements: Requirement[] } | { error: string } {
  const requirements: Requirement[] = [];
  let i = 0;
  const s = text;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let j = i;
    while (j < s.length && !/\s/.test(s[j]!) && s[j] !== '(') j++;
    const rid = s.slice(i, j);
    let states: Status[] = ['up', 'stdby up'];
    if (s[j] === '(') {
      const close = s.indexOf(')', j);
      if (close < 0) return { error: `unclosed "(" after ${rid || 'a resource id'}` };
      const words = s.slice(j + 1, close).split(',').map((w) => w.trim().replace(/\s+/g, ' '));
      states = [];
      for (const w of words) {
        if (!(requireStates as readonly string[]).includes(w)) return { error: `bad state "${w}" for ${rid}: expected ${requireStates.join(', ')}` };
        states.push(w as Status);
      }
      j = close + 1;
      if (j < s.length && !/\s/.test(s[j]!)) return { error: `expected a space after ${s.slice(i, j)}` };
    }
    if (!RID.test(rid)) return { error: `bad resource id "${rid}": expected <group>#<index>` };
    requirements.push({ rid, states });
    i = j;
  }
  return { requirements };
}

function requiresError(v: KeywordValue): string | undefined {
  const r = parseRequires(String(v));
  return 'error' in r ? r.error : undefined;
}
