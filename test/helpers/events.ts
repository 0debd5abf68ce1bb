// Watch real state changes as the kernel and the engine report them, with times, so tests
// prove ordering from the world and not from ferry's own logs.
import { execa, type ResultPromise } from 'execa';

export interface TimedEvent {
  at: number;
  source: string;
  line: string;
}

export interface Recorder {
  events: TimedEvent[];
  /** first event of `source` whose line matches, or undefined */
  first(source: string, re: RegExp): TimedEvent | undefined;
  stop(): Promise<void>;
}

function watch(source: string, cmd: string, args: string[], sink: TimedEvent[], parseTime?: (line: string) => number | undefined): ResultPromise {
  const child = execa(cmd, args, { reject: false, stdin: 'ignore', buffer: false });
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const now = Date.now();
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) sink.push({ at: parseTime?.(line) ?? now, source, line });
  });
  return child;
}

/**
 * Start watchers: address changes in a netns (`ip monitor`), mount table changes
 * (`findmnt --poll`), Docker events for containers whose name starts with `containerPrefix`.
 * Resolves once the watchers had time to attach.
 */
export async function recordEvents(opts: { netns?: string; mounts?: boolean; containerPrefix?: string }): Promise<Recorder> {
  const events: TimedEvent[] = [];
  const children: ResultPromise[] = [];
  if (opts.netns) children.push(watch('ip', 'ip', ['-n', opts.netns, 'monitor', 'address'], events));
  if (opts.mounts) children.push(watch('mount', 'findmnt', ['--poll', '-n', '-o', 'ACTION,TARGET'], events));
  if (opts.containerPrefix) {
    children.push(
      watch(
        'docker',
        'docker',
        ['events', '--filter', 'type=container', '--format', '{{.TimeNano}} {{.Action}} {{.Actor.Attributes.name}}'],
        events,
        (line) => {
          const ns = line.split(' ')[0];
          return ns && /^\d+$/.test(ns) ? Math.floor(Number(BigInt(ns) / 1_000_000n)) : undefined;
        },
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 700));
  return {
    events,
    first: (source, re) => events.find((e) => e.source === source && re.test(e.line)),
    async stop() {
      for (const c of children) c.kill('SIGTERM');
      await Promise.allSettled(children);
    },
  };
}
