// Simulates a test process dying with its lab up: creates a lab (optionally mounts the data
// disk in n1 and starts an agent stand-in), prints the lab id, then SIGKILLs itself so no
// teardown code can run. The crash test then checks `ferry-lab cleanup` removes it all.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../../src/lab/lab.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const lab = await Lab.create({ nodes: 2, prefix: 'fyx' });
const mnt = path.join(lab.record.nodes[0]!.root, 'mnt');
await lab.exec('n1', 'mkdir', ['-p', mnt]);
const m = await lab.exec('n1', 'mount', [lab.dataDisk!, mnt]);
if (!m.ok) throw new Error(m.stderr);
lab.startAgent('n1', [process.execPath, path.join(here, 'lab-udp.js'), 'serve', '7000']);
lab.spawn('n2', 'sleep', ['1000']);
process.stdout.write(`${lab.id}\n`, () => process.kill(process.pid, 'SIGKILL'));
