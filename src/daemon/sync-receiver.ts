// The daemon's side of incoming data pushes (sync type rsync): a push from a peer runs
// `rsync --server` here only if the service exists here, the peer is in its nodes, the path
// is this node's dst of the resource, and this node does NOT run the service (a copy is never
// written under a running service). One stream per service at a time (StreamServer).
import fs from 'node:fs';
import type { Logger } from '../log.js';
import type { FerryPaths } from '../paths.js';
import { Service } from '../service/service.js';
import { receiveCheck } from '../service/data.js';
import type { ChanLog } from '../statechan/server.js';
import { StreamServer } from '../statechan/stream-server.js';

export interface ReceiverDeps {
  paths: FerryPaths;
  nodename: string;
  log: Logger;
  /** does this node run (or start, or stop) the service now, as the daemon knows it */
  runsHere: (svc: string) => boolean;
  /** a push completed: the copy's record changed */
  received: (svc: string) => void;
}

export function syncReceiver(d: ReceiverDeps): StreamServer {
  const log: ChanLog = (level, event, msg, data = {}) => d.log[level]({ event, ...data }, msg);
  return new StreamServer(async (peer, open) => {
    let svc: Service;
    try {
      svc = Service.open(d.paths, open.svc, d.nodename);
    } catch (e) {
      return { ok: false, error: `no usable service ${open.svc.slice(0, 64)} on ${d.nodename}: ${(e as Error).message.split('\n')[0]}` };
    }
    if (d.runsHere(svc.svcname)) return { ok: false, error: `${svc.svcname} runs on ${d.nodename}: nothing is pushed into a node that runs it` };
    const g = receiveCheck(svc, open.rid, peer, open.argv);
    if (!g.ok) return g;
    fs.mkdirSync(g.dst, { recursive: true });
    const at = Date.now();
    return {
      ok: true, key: svc.svcname, file: g.file, args: g.args, timeoutMs: g.timeoutMs,
      done: (ok, _code, dataAt) => {
        if (!ok) return;
        // a pre-opened final stream is opened before the owner's stop: its data is as of when it came
        g.record(Math.max(at, dataAt ?? at), open.final);
        d.received(svc.svcname);
      },
    };
  }, log);
}
