// The container driver's schema (section, types, keywords, checks); its resources are
// container.ts's, loaded at their first use (lazy-driver.ts) with the engine code.
import type { DriverSpec } from './types.js';
import type { Keyword, KeywordValue } from '../vocab/keywords.js';
import { lazyDriver } from './lazy-driver.js';
import { shlexSplit } from '../util/shlex.js';
import { undeclaredVolumeProblems } from './container-volumes.js';
import { checkDevice, checkEntrypoint, checkEnvironment, checkHostname, checkNetns, checkUser, checkVolumeMount, NAME_RE } from './container-args.js';

const DEFAULT_START_TIMEOUT = 60_000;
const DEFAULT_STOP_TIMEOUT = 10_000;
// long enough for a container whose command fails at once to be seen exited even on a loaded
// machine (its exit takes the engine tens of ms there), short enough for the takeover path
const DEFAULT_START_SETTLE = 500;

export const keywords: Keyword[] = [
  { name: 'run_image', aliases: ['image'], type: 'string', required: true, scopable: true, description: 'Image to run, as the engine knows it (name:tag or id).' },
  { name: 'run_args', type: 'shlex', scopable: true, check: checkRunArgs, description: 'Extra arguments of the engine `run` command (volumes, ports, environment...), shell-quoted. `-d` and `--name` are set by ferry.' },
  { name: 'run_command', aliases: ['command'], type: 'shlex', scopable: true, description: 'Command and arguments run in the container, shell-quoted (no shell involved unless you call one). Empty: the image default.' },
  { name: 'name', type: 'string', check: (v) => (String(v) === '' || NAME_RE.test(String(v)) ? undefined : `letters, digits, _ . - only, not starting with . or -`), description: 'Container name. Default: <svcname>.container.<index>.' },
  { name: 'netns', type: 'string', scopable: true, check: checkNetns, description: 'Network namespace of the container (`run --network`): host, none, bridge; container#<index>: share the one of that container resource of this service (running, so it must start first: lower index or earlier subset); container:<name>: of that container; an absolute path such as /var/run/netns/blue: that named namespace (podman only, docker cannot join one by path). Empty: the engine default.' },
  { name: 'volume_mounts', type: 'shlex', scopable: true, check: checkVolumeMount, description: 'Volumes, shell-quoted list of <host path or volume>:<container path>[:options] (`run --volume` each), e.g. `pgdata:/var/lib/postgresql/data /srv/conf:/conf:ro`. A host path is absolute; a volume is one the service declares in [DEFAULT] volumes (docs/volume-plugin.md): start creates it through the node\'s volume plugin ([cluster] volume_plugin) when the engine lacks it, so it lives in the service\'s volumes_dir and follows the service. The container path is absolute.' },
  { name: 'environment', type: 'shlex', scopable: true, check: checkEnvironment, description: 'Environment of the container, shell-quoted list of KEY=value (`run --env` each).' },
  { name: 'entrypoint', type: 'shlex', scopable: true, check: checkEntrypoint, description: 'Entrypoint, shell-quoted words: the first is `run --entrypoint`, the others are put before run_command. Empty: the image entrypoint.' },
  { name: 'hostname', type: 'string', scopable: true, check: checkHostname, description: 'Host name inside the container (`run --hostname`). The engines refuse it with a shared netns (container#<index>, host).' },
  { name: 'privileged', type: 'boolean', default: false, scopable: true, description: 'Run the container privileged (`run --privileged`).' },
  { name: 'interactive', type: 'boolean', default: false, scopable: true, description: 'Keep the container stdin open (`run --interactive`).' },
  { name: 'tty', type: 'boolean', default: false, scopable: true, description: 'Give the container a terminal (`run --tty`).' },
  { name: 'rm', type: 'boolean', default: false, scopable: true, description: 'The engine removes the container when it exits (`run --rm`); stop removes it anyway.' },
  { name: 'devices', type: 'shlex', scopable: true, check: checkDevice, description: 'Host devices given to the container, shell-quoted list of /dev/<host>[:<container path>][:<permissions rwm>] (`run --device` each).' },
  { name: 'user', type: 'string', scopable: true, check: checkUser, description: 'User (and group) the container command runs as, user[:group] by name or id (`run --user`). Empty: the image user.' },
  { name: 'start_timeout', type: 'duration', default: DEFAULT_START_TIMEOUT, description: 'How long start waits for the container to be running (image pull included) before failing.' },
  { name: 'start_settle', type: 'duration', default: DEFAULT_START_SETTLE, description: 'How long the container must stay running after `run` for the start to succeed: one that exits (or is restarted by the engine) within it fails the start with its exit code and last output lines. 0: running once is enough.' },
  { name: 'stop_timeout', type: 'duration', default: DEFAULT_STOP_TIMEOUT, description: 'Grace period between SIGTERM and SIGKILL on stop (engine `stop -t`).' },
  { name: 'docker_host', type: 'string', scopable: true, description: 'Engine socket, e.g. unix:///run/docker.sock: sets DOCKER_HOST (docker) or CONTAINER_HOST (podman, remote mode). Default: the node engine.' },
];

export function checkRunArgs(v: KeywordValue | string[]): string | undefined {
  let words: string[];
  try {
    words = Array.isArray(v) ? v : shlexSplit(String(v));
  } catch {
    return undefined; // the shlex type check reports it
  }
  // a bare `--` would end the options early and make the image a word of run_args
  return words.includes('--') ? 'run_args must not hold a bare "--": the image and run_command follow it' : undefined;
}

export const driver: DriverSpec = lazyDriver({
  section: 'container',
  kind: 'container',
  types: ['docker', 'podman'],
  keywords,
  description:
    'A container run by the node engine (docker or podman CLI). Up when the container named `name` is running; stop removes it. Every container is labelled ferry.svc, ferry.rid and ferry.node; one labelled for another node (an engine shared between nodes) is never adopted: it shows down here with a message, start refuses while it runs and stop leaves it alone.',
  check(kw, ctx) {
    let mounts: string[];
    try {
      mounts = shlexSplit(kw.string('volume_mounts') ?? '');
    } catch {
      return []; // the shlex type check reports it
    }
    return undeclaredVolumeProblems(mounts, ctx.defaults.list('volumes'), ctx.defaults.string('volumes_dir') ?? '').map((message) => ({ keyword: 'volume_mounts', message }));
  },
  has: {},
  load: () => import('./container.js').then((m) => m.createResource),
});
