// The keyword table model. Every driver declares its keywords once, here-shaped; that one
// table drives parsing, validation, defaults, `print config --eval` and docs/keywords.md.
import type { Keyword, KeywordValue } from '../vocab/keywords.js';
import { resourceTriggerKeywords, serviceTriggerKeywords } from './trigger-keywords.js';
import { volumeNameProblem } from '../util/volume-name.js';

const MAX_VOLUMES = 64;

/** [DEFAULT] volumes: good names, each once, a bounded number */
function checkVolumeNames(v: KeywordValue): string | undefined {
  const names = Array.isArray(v) ? v : String(v).split(/\s+/).filter((w) => w !== '');
  if (names.length > MAX_VOLUMES) return `${names.length} volumes, more than ${MAX_VOLUMES}`;
  const seen = new Set<string>();
  for (const n of names) {
    const bad = volumeNameProblem(n);
    if (bad) return bad;
    if (seen.has(n)) return `volume ${JSON.stringify(n)} is declared twice`;
    seen.add(n);
  }
  return undefined;
}

/** The [DEFAULT] section. */
export const defaultKeywords: Keyword[] = [
  { name: 'nodes', type: 'list', default: [], scopable: false, description: 'Nodes allowed to run the service, in placement order: the first is the preferred owner. Empty means this node only.' },
  { name: 'drpnodes', type: 'list', default: [], description: 'Disaster recovery nodes (accepted for v1 compatibility; not used for placement).' },
  { name: 'orchestrate', type: 'string', default: 'no', candidates: ['no', 'start', 'ha'], description: 'no: the daemon never starts or moves the service; start: the daemon starts it on the first live node of `nodes` at cluster start; ha: as start, and fails it over when its owner dies or a monitored resource fails.' },
  { name: 'parents', type: 'list', default: [], scopable: false, description: 'Services that must be avail up on a live node of the cluster before the daemon starts this one (and before `svcmgr start` without --force); the daemon stops this one before them (docs/dependencies.md).' },
  { name: 'children', type: 'list', default: [], scopable: false, description: 'Services that must be down on every live node before the daemon stops this one (a relocation of this service is refused while they run); each child waits for this one to be up before it starts (docs/dependencies.md).' },
  { name: 'app', type: 'string', default: 'default', description: 'Application code the service belongs to (informational).' },
  { name: 'service_type', aliases: ['env'], type: 'string', default: 'PRD', scopable: true, description: 'Service environment class shown in svcmon (PRD, DEV, TST...).' },
  { name: 'comment', type: 'string', description: 'Free text.' },
  { name: 'docker_data_dir', type: 'string', check: (v) => (String(v) === '' || String(v).startsWith('/') ? undefined : `"${String(v)}" is not an absolute path`), description: 'Private container engine of the service, its data on this directory (normally on one of its fs): docker containers run in a dockerd of their own (data root here; exec root, pid file and socket under /run/ferry/<svc>/; started before the first container, stopped after the last; `--bridge=none --iptables=false` unless docker_daemon_args sets the bridge or iptables), podman ones with `--root` here and their own `--runroot`/`--tmpdir` under /run/ferry/<svc>/. Where the service does not run, its containers show `docker daemon is not running`. A container with docker_host uses that engine instead. Empty: the node engine.' },
  { name: 'volumes_dir', type: 'string', check: (v) => (String(v) === '' || String(v).startsWith('/') ? undefined : `"${String(v)}" is not an absolute path`), description: 'Directory holding the service\'s Docker volumes, one directory per volume (docs/volume-plugin.md), normally on one of its fs or synced subvolumes so the volumes follow the service, e.g. `/srv/{svcname}/volumes`. The daemon\'s volume plugin ([cluster] volume_plugin) creates `docker volume create -d <plugin> -o service=<svc>` volumes here, and mounts them only while the service runs on the node. Unset: the service holds no volumes.' },
  { name: 'volumes', type: 'list', default: [], check: checkVolumeNames, description: 'Docker volumes the service declares (docs/volume-plugin.md): names of volumes in its `volumes_dir` (required with it), served by the daemon\'s volume plugin ([cluster] volume_plugin). A `volume_mounts` entry of a container resource naming one, e.g. `pgdata:/var/lib/postgresql/data`, mounts that volume, created on the container\'s start if absent (where the service runs). A name is 1-128 characters of A-Z a-z 0-9 _ . -, starting with a letter or a digit.' },
  { name: 'docker_daemon_args', type: 'shlex', description: 'Extra arguments of the private dockerd (docker_data_dir), shell-quoted, e.g. `--ip 37.59.71.25`.' },
  { name: 'placement', type: 'string', default: 'nodes order', candidates: ['nodes order'], description: 'How the daemon picks the node to start the service on.' },
  { name: 'rollback', type: 'boolean', default: true, description: 'On a failed start, stop what the action started.' },
  { name: 'multiple_active', type: 'string', default: 'stop_start', candidates: ['stop_start', 'stop_only', 'block'], description: 'What the daemons do when the service is seen up on more than one live node, confirmed on two consecutive refreshes (docs/monitoring.md): stop_start stops it on every node but the one the orchestrator places it on (the first of `nodes` that runs it); stop_only stops it everywhere and leaves it stopped; block only raises the alarm (event service.multiple-active, svcmon note). Alarm only while it is frozen on a node that runs it, or with orchestrate = no.' },
  { name: 'status_interval', type: 'duration', default: 600_000, check: (v) => (Number(v) >= 1_000 ? undefined : 'must be at least 1s'), description: 'How often the daemon re-reads the full status of the service on this node (every resource checked), on every node of the service, the standby ones too: the views of an unmonitored resource may lag this much. A change of the service file, a CLI action, freeze or thaw refreshes it at the next daemon tick (1 s) instead. As OpenSVC\'s status_schedule, 10 minutes.' },
  { name: 'monitor_interval', type: 'duration', default: 60_000, check: (v) => (Number(v) >= 1_000 ? undefined : 'must be at least 1s'), description: 'How often the daemon of the node running the service checks its monitored resources (`monitor = true`), between full status reads: a failed monitored resource is seen within monitor_interval + 0.5 s + the check\'s own duration, then restarted or acted on (monitor_action). Lower it for a faster detection at the cost of one check process per monitored resource per interval (100 services at the default 60 s: 1.7 processes/s; at 10 s: 10/s). Pacemaker (pcs) gives `op monitor interval=60s` unless the agent says otherwise.' },
  { name: 'stonith', type: 'boolean', default: true, description: 'Fence the old owner before a takeover (when the cluster defines STONITH for it).' },
  ...serviceTriggerKeywords,
];

/** Keywords every resource section accepts, whatever its driver. */
export const commonResourceKeywords: Keyword[] = [
  { name: 'type', type: 'string', description: 'Driver type within the resource group (for example docker or podman for container).' },
  { name: 'subset', type: 'string', description: 'Subset the resource belongs to: subsets of a group run in name order, members of a `parallel` subset concurrently.' },
  { name: 'optional', type: 'boolean', default: false, scopable: true, description: 'A failure of this resource does not fail the action, and its status does not count in avail.' },
  { name: 'disable', type: 'boolean', default: false, scopable: true, description: 'Ignore this resource in actions and status.' },
  { name: 'monitor', type: 'boolean', default: false, scopable: true, description: 'The daemon checks this resource continuously; a failure triggers restart then monitor_action.' },
  { name: 'restart', type: 'integer', default: 0, scopable: true, description: 'How many times the daemon restarts a failed monitored resource before monitor_action.' },
  { name: 'monitor_action', type: 'string', default: 'freezestop', candidates: ['freezestop', 'switch', 'reboot', 'crash', 'none'], description: 'What the daemon does once restarts are exhausted.' },
  { name: 'encap', type: 'boolean', default: false, description: 'Resource runs inside an encapsulated service (accepted for v1 compatibility).' },
  { name: 'tags', type: 'list', default: [], description: 'Free tags.' },
  { name: 'comment', type: 'string', description: 'Free text.' },
  ...resourceTriggerKeywords,
];

/** [subset#<group>[.<type>]:<name>] sections. */
export const subsetKeywords: Keyword[] = [
  { name: 'parallel', type: 'boolean', default: false, description: 'Start and stop the members of this subset concurrently.' },
];

/** [env] section: free keys, referenced as {env.<key>}. */
export const envSectionName = 'env';
