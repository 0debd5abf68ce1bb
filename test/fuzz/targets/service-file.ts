// Fuzz target: a service file through the reader, the validator (as `svcmgr validate config`
// runs them) and, when valid, the typed model the daemon loads. Bad files must come back as
// `file:line: message` problems; anything thrown is a finding, and so is a problem that does
// not name a line of the file or spans several lines.
import { buildServiceConfig } from '../../../src/config/load.js';
import { validateText } from '../../../src/config/validate.js';
import type { ConfigError } from '../../../src/config/errors.js';
import type { FuzzTarget } from '../target.js';
import { checkProblems } from '../problems.js';
import { drivers } from '../../../src/resources/registry.js';

const FILE = 'fuzz.env';
const OPTS = { svcname: 'fuzzsvc', nodename: 'n1', drivers };

const HEAD = '[DEFAULT]\nnodes = n1 n2\n';

const SEEDS: readonly string[] = [
  HEAD + '\n[ip#1]\nipname = svc.example.com\nipdev = eth0\nipdev@n2 = eth1\n\n[fs#1]\ndev = /dev/vg1/lv1\nmnt = /srv/{svcname}\ntype = ext4\n\n[app#1]\nstart = /bin/sh -c "echo start; sleep 1"\nstop = /bin/true\ncheck = /bin/true\ntimeout = 1m30s\n',
  HEAD + 'orchestrate = ha\ndrpnodes = n3\n\n[vg#1]\nvgname = vgsvc\nscsireserv = false\n\n[container#1]\ntype = podman\nimage = busybox\ncommand = /bin/sh -c "sleep 1; true"\nsubset = 01a\n\n[subset#container.podman:01a]\nparallel = yes\n',
  HEAD + '\n[env]\nroot = /srv/{svcname}\ndata = {env.root}/data\nlog = {env.data}/log@{nodename}\nport = 8080\nport@n2 = 8081\n\n[app#web]\nstart = /usr/bin/web --root {env.data} --port {env.port}\ncwd = {env.root}\nenvironment = A=1 "B=two words" ROOT={env.root}\n\n[app#2]\nstart = {app#web.start} --second\nrestart = 3\noptional@nodes = true\n',
  // references chained with fan-out: each level names the next twice (the shape that once took 15 s at 22 levels)
  HEAD + '\n[env]\nk0 = {env.k1}{env.k1}\nk1 = {env.k2}{env.k2}\nk2 = {env.k3}{env.k3}\nk3 = {env.k4}{env.k4}\nk4 = {env.k5}{env.k5}\nk5 = {env.k6}{env.k6}\nk6 = x\n\n[app#1]\nstart = /bin/echo {env.k0}\n',
  HEAD + '\n[env]\na = {env.b}\nb = {env.c}\nc = {env.a}\nd = {DEFAULT.nodes} {ip#1.ipname} {short_nodename} {rid}\n\n[ip#1]\nipname = {env.d}\nipdev = eth0\n',
  HEAD + '# a comment\n; another\n\n[app#1]\ntype = forking\nstart = /bin/sh -c "\n  echo multi\n  echo line"\nstop = /bin/true\n  continued\nmonitor = true\nmonitor_action = freezestop\n\n[app#2]\ntype = ocf\nagent = ocf:heartbeat:Dummy\nocf_params = state=/tmp/{svcname}.state\n',
  '[DEFAULT]\r\nnodes = n1, n2\r\n\r\n[app#1]\r\nstart = /bin/true\r\nstart@n1 = /bin/false\r\nstart@n2 = /bin/true\r\ntimeout = 10s \r\n',
  HEAD + 'flex_min_nodes = 1\n[app#1]\nstart = ${HOME}/bin/x {{.ID}} {} {print $1} {foo}\n[sync#1]\nsrc = /srv\ndst = /srv\ntarget = nodes\n[disk#1]\ntype = raw\ndevs = /dev/sdb /dev/sdc\n',
  '[DEFAULT]\nnodes = n1 n2\n[fs#1\nmnt = /a\n[]\n[app#1] x\nbogus\n= v\nk ey = v\n[app#1]\n[app#1]\nstart@ = x\n@n1 = y\nstrat = /bin/true\n',
  '',
];

/** tokens of the service file dialect the mutators splice in */
export const dictionary: string[] = [
  '[', ']', '=', ' = ', '#', ';', '@', '@n1', '@n2', '@nodes', '@drpnodes', '{', '}', '{env.', '{env.k1}', '{env.a}',
  '{nodename}', '{svcname}', '{rid}', '{DEFAULT.nodes}', '{app#1.start}', '{ip#1.ipname}', '${', '{{', '}}',
  '\n', '\r\n', '\n  ', '\t', '"', "'", '\\', '[DEFAULT]\n', '[env]\n', '[app#1]\n', '[ip#1]\n', '[fs#1]\n',
  '[subset#app:x]\n', 'type = ', 'nodes = ', 'start = ', 'timeout = ', 'true', 'false', '0', '-1',
  '99999999999999999999', '1h', '500ms', 'forking', 'ocf', 'podman', 'docker',
];

export const target: FuzzTarget = {
  name: 'service-file',
  seeds: () => SEEDS.map((s) => Buffer.from(s, 'utf8')),
  run(input: Buffer): void {
    const text = input.toString('utf8');
    const { doc, errors, warnings } = validateText(text, FILE, OPTS);
    checkProblems(FILE, doc.lines.length, [...errors, ...warnings]);
    if (errors.length > 0) return;
    // valid: the daemon builds its model from it, which must not find a problem validate missed
    const built = buildServiceConfig(text, FILE, OPTS);
    if (!built.config) throw new Error(`validate passed but build refused: ${built.errors.map((e: ConfigError) => e.toString()).join(' | ')}`);
  },
};
