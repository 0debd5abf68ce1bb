// Heartbeat worker thread entry. Sockets, device I/O and every timer of the heartbeats live
// on this thread's own event loop: when the daemon's main loop is stuck (GC, a long sync
// call), beats still leave on time and peers are still watched.
import { parentPort, workerData } from 'node:worker_threads';
import { Engine } from './engine.js';
import type { FromWorker, ToWorker, WorkerInit } from './types.js';

const port = parentPort;
if (!port) throw new Error('heartbeat worker must run in a worker thread');
const init = workerData as WorkerInit;
const emit = (m: FromWorker): void => port.postMessage(m);

const engine = new Engine({
  cluster: init.cluster,
  nodename: init.nodename,
  incarnation: BigInt(init.incarnation),
  payload: init.payload,
  emit,
});

port.on('message', (m: ToWorker) => {
  if (m.t === 'payload') {
    engine.setPayload(m.json);
    if (m.urgent) engine.beatNow();
  }
  else if (m.t === 'stop') {
    void engine
      .stop(m.graceful)
      .catch((e: unknown) => emit({ t: 'log', level: 'error', msg: 'heartbeat stop failed', data: { error: String(e) } }))
      .finally(() => {
        emit({ t: 'stopped' });
        port.close();
      });
  }
});

engine
  .start()
  .then(() => emit({ t: 'ready' }))
  .catch((e: unknown) => {
    emit({ t: 'log', level: 'error', msg: 'heartbeat start failed', data: { error: String(e) } });
    emit({ t: 'ready' });
  });
