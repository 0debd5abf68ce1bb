// The machine-output contract of every leaf command of svcmgr, svcmon and nodemgr (issue 12),
// walked from the real commander programs: test/unit/machine-output.test.ts checks the trees
// against it, test/integration/machine-output.test.ts runs the commands.
import type { Command } from 'commander';
import { buildProgram as buildSvcmgr } from '../../src/cli/svcmgr-program.js';
import { buildProgram as buildSvcmon } from '../../src/cli/svcmon-program.js';
import { buildProgram as buildNodemgr } from '../../src/cli/nodemgr.js';
import type { CliContext } from '../../src/cli/main.js';
import { ferryPaths } from '../../src/paths.js';

export type Output = { schema: string } | { none: string };

/**
 * Every leaf command, by its words. `schema`: prints, with --format json documented by
 * docs/schemas/<schema>.schema.json. `none`: the allow-list, why the command has no JSON form.
 */
export const OUTPUTS: Record<string, Output> = {
  svcmon: { schema: 'svcmon' },

  'svcmgr start': { schema: 'svcmgr-action' },
  'svcmgr stop': { schema: 'svcmgr-action' },
  'svcmgr restart': { schema: 'svcmgr-action' },
  'svcmgr boot': { schema: 'svcmgr-action' },
  'svcmgr shutdown': { schema: 'svcmgr-action' },
  'svcmgr print status': { schema: 'svcmgr-print-status' },
  'svcmgr print config': { schema: 'svcmgr-print-config' },
  'svcmgr print devs': { schema: 'svcmgr-print-devs' },
  'svcmgr validate': { schema: 'svcmgr-validate-config' },
  'svcmgr get': { schema: 'svcmgr-get' },
  'svcmgr relocate': { schema: 'svcmgr-relocate' },
  'svcmgr switch': { schema: 'svcmgr-relocate' },
  'svcmgr takeover': { schema: 'svcmgr-relocate' },
  'svcmgr giveback': { schema: 'svcmgr-relocate' },
  'svcmgr clear': { schema: 'svcmgr-clear' },
  'svcmgr enable': { schema: 'svcmgr-enable' },
  'svcmgr disable': { schema: 'svcmgr-enable' },
  'svcmgr prstatus': { schema: 'svcmgr-prstatus' },
  'svcmgr print schedule': { schema: 'svcmgr-print-schedule' },
  'svcmgr run': { schema: 'svcmgr-run' },
  // --follow too: the same records, one JSON object per line
  'svcmgr logs': { schema: 'svcmgr-logs' },
  'svcmgr freeze': { none: 'prints nothing: success is exit 0, a failure one line on stderr' },
  'svcmgr thaw': { none: 'prints nothing: success is exit 0, a failure one line on stderr' },
  'svcmgr set': { none: 'prints nothing: success is exit 0, a refused edit one line on stderr' },
  'svcmgr unset': { none: 'prints nothing: success is exit 0, a refused edit one line on stderr' },
  'svcmgr create': { none: 'prints nothing: success is exit 0, a refused file file:line lines on stderr' },
  'svcmgr delete': { none: 'prints nothing: success is exit 0, a failure one line on stderr' },
  'svcmgr edit config': { none: 'interactive: runs $EDITOR on the terminal (stdio inherited), so its stdout is the editor\'s' },
  'svcmgr docker': { none: 'runs the docker CLI: its output and exit code are passed through (docker\'s own --format applies)' },
  'svcmgr podman': { none: 'runs the podman CLI: its output and exit code are passed through (podman\'s own --format applies)' },

  'nodemgr nodename': { schema: 'nodemgr-nodename' },
  'nodemgr validate': { schema: 'nodemgr-validate' },
  'nodemgr daemon start': { schema: 'nodemgr-daemon-start' },
  'nodemgr daemon stop': { schema: 'nodemgr-daemon-stop' },
  'nodemgr daemon status': { schema: 'nodemgr-daemon-status' },
  'nodemgr events': { schema: 'nodemgr-events' },
  'nodemgr stonith': { schema: 'nodemgr-stonith' },
  'nodemgr drain': { schema: 'nodemgr-drain' },
  'nodemgr daemon run': { none: 'the daemon in the foreground: under systemd (or --log-stdout) its stdout is the JSON log lines, else one line saying it runs' },
  'nodemgr arbitrator': { none: 'a server in the foreground: under systemd its stdout is the JSON log lines, else one line saying where it listens' },
  'nodemgr freeze': { none: 'prints nothing: success is exit 0, a failure one line on stderr' },
  'nodemgr thaw': { none: 'prints nothing: success is exit 0, a failure one line on stderr' },
};

// building the programs reads nothing: the paths are only used when a command runs
const ctx: CliContext = { paths: ferryPaths(), nodename: 'n1' };

export function leaves(cmd: Command, words: string[] = [cmd.name()]): { words: string[]; cmd: Command }[] {
  if (cmd.commands.length === 0) return [{ words, cmd }];
  return cmd.commands.flatMap((c) => leaves(c, [...words, c.name()]));
}

/** The --format option a command reads: its own, else an ancestor's (svcmgr's is global). */
export function formatOf(cmd: Command): string[] | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.options.find((x) => x.long === '--format');
    if (o) return o.argChoices ? [...o.argChoices] : [];
  }
  return undefined;
}

export const programs = (): Command[] => [buildSvcmon(), buildSvcmgr(ctx).program, buildNodemgr(ctx).program];
export const allLeaves = () => programs().flatMap((p) => leaves(p));

