// Fuzz target: the cluster file (<etc>/cluster.conf) through parseClusterConfig, as the daemon
// and `nodemgr` read it. Problems must come back as `file:line: message`; anything thrown is a
// finding, and so is a config handed out together with an error.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseClusterConfig } from '../../../src/cluster/config.js';
import { parseDocument } from '../../../src/config/document.js';
import type { FuzzTarget } from '../target.js';
import { checkProblems } from '../problems.js';

const FILE = 'cluster.conf';
const NODE = 'n1';
// the repo's test/fuzz/fixtures/etc (this file runs from dist/test/fuzz/targets): holds
// cluster.secret, so `secret_file = cluster.secret` reads a real file
const ETC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'test', 'fuzz', 'fixtures', 'etc');

const SECRET = 'ab'.repeat(32);
const HEAD = `[cluster]\nname = prod\nnodes = n1 n2\nsecret = ${SECRET}\n`;

const SEEDS: readonly string[] = [
  HEAD + 'quorum = false\n\n[hb#1]\ntype = unicast\naddr@n1 = 10.0.0.1\naddr@n2 = 10.0.0.2\nport = 10001\nport@n2 = 10002\n',
  HEAD + '\n[hb#2]\ntype = multicast\naddr = 239.1.2.3\nport = 10003\nintf = eth0\nintf@n2 = eth1\ninterval = 500ms\ntimeout = 2s\n\n[arbitrator#1]\naddr = 10.0.0.9\nport = 1215\ntimeout = 2s\n',
  HEAD + 'split_action = crash\nsplit_grace = 30s\nfence_delay = 5s\n\n[hb#3]\ntype = disk\ndev = /dev/sdb\ndev@n2 = /dev/sdc\nslot_size = 8192\n\n[stonith#n1]\nagent = fence_dummy\nparams = type=file "comment=a b"\ntimeout = 30s\n\n[stonith#n2]\nagent = /usr/sbin/fence_ipmilan\nparams = ip=10.0.0.12 username=admin password=\'p w\'\n',
  '[cluster]\nname = lab\nnodes = n1 n2 n3\nsecret_file = cluster.secret\ncomment = three nodes, the secret in a file\n\n[hb#1]\ntype = unicast\naddr@n1 = fd00::1\naddr@n2 = fd00::2\naddr@n3 = fd00::3\n\n[arbitrator#a]\naddr = http://10.0.0.9:1215/vote\n',
  '[cluster]\r\nname = prod\r\nnodes = n1,n2\r\nsecret = ' + SECRET + '\r\nquorum = true\r\n\r\n[hb#1]\r\ntype = unicast\r\naddr@n1 = 10.0.0.1\r\naddr@n2 = 10.0.0.1\r\ninterval = 3s\r\ntimeout = 1s\r\n',
  '[cluster]\nname = bad name!\nnodes = n1 n1 n3\nsecret = 1234\nsecret_file = cluster.secret\nquorum@n1 = maybe\n[hb#1]\ntype = carrier-pigeon\nslot_size = 100\n[hb#2]\ntype = multicast\naddr = 10.0.0.1\nport = 70000\ndev = /dev/sdb\n[stonith#n9]\nparams = novalue\n[nope]\nx = 1\n',
  '',
];

export const dictionary: string[] = [
  '[', ']', '=', ' = ', '#', ';', '@', '@n1', '@n2', '@n3', '@nodes', '\n', '\r\n', '\n  ', '"', "'",
  '[cluster]\n', '[hb#1]\n', '[hb#9]\n', '[stonith#n1]\n', '[arbitrator#1]\n', 'type = ', 'unicast', 'multicast', 'disk',
  'addr = ', 'port = ', 'secret = ', 'secret_file = ', 'cluster.secret', 'nodes = ', 'quorum = ', 'true', 'false',
  '0', '-1', '65536', '99999999999999999999', '0ms', '1h', '::1', '224.0.0.1', '255.255.255.255', SECRET,
];

export const target: FuzzTarget = {
  name: 'cluster-file',
  seeds: () => SEEDS.map((s) => Buffer.from(s, 'utf8')),
  run(input: Buffer): void {
    const text = input.toString('utf8');
    const r = parseClusterConfig(text, FILE, NODE, ETC);
    checkProblems(FILE, parseDocument(text, FILE).doc.lines.length, r.errors);
    const errors = r.errors.filter((e) => e.severity === 'error');
    if (r.config && errors.length > 0) throw new Error(`a config handed out with errors: ${errors.map(String).join(' | ')}`);
    if (r.config && !r.config.nodes.includes(NODE)) throw new Error(`a config for a cluster without this node: ${r.config.nodes.join(' ')}`);
  },
};
