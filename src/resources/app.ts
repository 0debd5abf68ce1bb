// app resources: the application itself, started last and stopped first (GUIDE §3).
// Two types: `forking` (commands that return once the app runs; v2 command lines or a v1
// launcher script) and `ocf` (a Pacemaker OCF resource agent). This file is the keyword
// table and the dispatch; the behaviour lives in app-forking.ts and app-ocf.ts.
import type { Keyword } from '../vocab/keywords.js';
import type { DriverSpec, Resource } from './types.js';
import { createForkingApp } from './app-forking.js';
import { createOcfApp } from './app-ocf.js';

const forking = ['forking'];
const ocf = ['ocf'];
const both = ['forking', 'ocf'];

const commandHelp = 'A command line (shlex-split and run without a shell: use `/bin/sh -c "..."` for shell syntax), or `true` / a v1 sequence number to run `<script>';

export const appKeywords: Keyword[] = [
  { name: 'script', type: 'string', types: forking, description: 'v1 launcher, called as `<script> start|stop|status|info` by the start/stop/check/info keywords set to `true` or a sequence number. A relative path is taken under `<services>/<svcname>.dir/`.' },
  { name: 'start', type: 'shlex', types: forking, description: `Starts the app and returns once it runs (daemons it leaves behind keep running, detached from ferry). ${commandHelp} start\`. Non-zero exit or timeout is a start failure.` },
  { name: 'stop', type: 'shlex', types: forking, description: `Stops the app. ${commandHelp} stop\`. None: stop does nothing.` },
  { name: 'check', type: 'shlex', types: forking, description: `Tells whether the app runs: exit 0 up, 1 down, anything else warn. ${commandHelp} status\`. None: status n/a.` },
  { name: 'info', type: 'shlex', types: forking, description: `Prints "key: value" lines describing the app. ${commandHelp} info\`.` },
  { name: 'user', type: 'string', scopable: true, types: forking, description: 'Run the commands as this user (name or uid, resolved with getent), with its primary group and HOME/USER/LOGNAME. Unknown user: the action fails.' },
  { name: 'cwd', type: 'string', scopable: true, types: forking, description: 'Working directory of the commands. Default `/`.' },
  { name: 'environment', type: 'shlex', scopable: true, types: both, description: 'Extra environment variables, shlex list of `NAME=VALUE`.' },
  { name: 'agent', type: 'string', required: true, types: ocf, description: 'OCF resource agent: `ocf:<provider>:<type>` or `<provider>:<type>`, e.g. `ocf:heartbeat:Dummy`, found under `$OCF_ROOT/resource.d` (OCF_ROOT defaults to /usr/lib/ocf).' },
  { name: 'ocf_params', type: 'shlex', scopable: true, types: ocf, description: 'Agent parameters, shlex list of `name=value`, passed as `OCF_RESKEY_<name>`.' },
  { name: 'timeout', type: 'duration', default: 60_000, scopable: true, types: both, description: 'Time limit of start and stop unless start_timeout/stop_timeout say otherwise. The command\'s process group then gets SIGTERM, SIGKILL 2 s later.' },
  { name: 'start_timeout', type: 'duration', scopable: true, types: both, description: 'Time limit of start. Default: timeout.' },
  { name: 'stop_timeout', type: 'duration', scopable: true, types: both, description: 'Time limit of stop. Default: timeout.' },
  { name: 'check_timeout', type: 'duration', default: 10_000, scopable: true, types: both, description: 'Time limit of check (OCF monitor); past it the status is warn.' },
  { name: 'info_timeout', type: 'duration', scopable: true, types: forking, description: 'Time limit of info. Default: check_timeout.' },
];

export const driver: DriverSpec = {
  section: 'app',
  kind: 'app',
  types: ['forking', 'ocf'],
  keywords: appKeywords,
  description: 'An application: start/stop/check commands or a v1 launcher script (type forking), or an OCF resource agent (type ocf). Output of start/stop goes to `<log>/app/<svcname>.<rid>.out|.err` (moved to `.1` past 16 MiB, one generation kept).',
  create(ctx): Resource {
    return ctx.type === 'ocf' ? createOcfApp(ctx) : createForkingApp(ctx);
  },
};
