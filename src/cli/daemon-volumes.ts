// `nodemgr daemon run`: the Docker volume plugin ([cluster] volume_plugin,
// docs/volume-plugin.md) beside the daemon. Where a service runs comes from the daemon's view
// (read only), or a start under way here (the service's action lock); its volumes_dir from its
// configuration. A plugin that cannot listen is logged
// (volume-plugin.error) and the daemon runs on without it.
import type { Daemon } from '../daemon/daemon.js';
import { runsHere } from '../cluster/node-state.js';
import { loadServiceConfig, locateService } from '../config/load.js';
import { EVENT } from '../events.js';
import type { Logger } from '../log.js';
import fs from 'node:fs';
import { serviceVarDir, volumePluginFile, type FerryPaths } from '../paths.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { heldAction } from '../service/lock.js';
import { listServices } from '../service/service.js';
import { VolumePlugin, type VolumeEnv } from '../daemon/volume-plugin/plugin.js';
import type { ServicePlace } from '../daemon/volume-plugin/protocol.js';
import { listenPlugin, pluginSocketPath, type PluginListener } from '../daemon/volume-plugin/server.js';
import { drivers } from '../resources/registry.js';

const START_ACTIONS = ['start', 'restart'];

function envOf(d: Daemon, paths: FerryPaths, nodename: string): VolumeEnv {
  return {
    services: () => listServices(paths),
    place(svc: string): ServicePlace {
      if (!listServices(paths).includes(svc)) return { known: false, here: false, elsewhere: [] };
      const v = d.view();
      // a start under way here (`svcmgr start` by hand, before the daemon's view shows it)
      // mounts its containers' volumes: its action lock, held by a live process, says so
      const starting = START_ACTIONS.includes(heldAction(serviceVarDir(paths, svc)) ?? '');
      const here = runsHere(v.nodes[nodename]?.payload?.services[svc]) || starting;
      const elsewhere = Object.entries(v.nodes)
        .filter(([n, nv]) => n !== nodename && nv.state === 'up' && runsHere(nv.payload?.services[svc]))
        .map(([n]) => n);
      return { known: true, here, elsewhere };
    },
    volumesDir(svc: string) {
      try {
        const { svcname, file } = locateService(paths, svc);
        return loadServiceConfig(file, svcname, nodename, drivers).defaults.string('volumes_dir');
      } catch (e) {
        return { error: (e instanceof Error ? e.message : String(e)).split('\n')[0]! };
      }
    },
  };
}

export async function startVolumePluginOf(d: Daemon, paths: FerryPaths, nodename: string, log: Logger): Promise<PluginListener | undefined> {
  const name = d.volumePlugin;
  if (!name) return undefined;
  const vlog = log.child({ part: 'volume-plugin' });
  const socket = pluginSocketPath(name);
  const plugin = new VolumePlugin(envOf(d, paths, nodename), vlog);
  try {
    const l = await listenPlugin(socket, (req) => plugin.answer(req), vlog);
    vlog.info({ event: EVENT.volumePluginListening, plugin: name, socket }, `volume plugin ${name} listening on ${socket}`);
    // the container driver reads the name of the plugin served here from this file (a driver
    // does not read the cluster file); it lives exactly as long as the listener
    const nameFile = volumePluginFile(paths);
    writeFileAtomic(nameFile, `${name}\n`);
    return {
      socket: l.socket,
      async close() {
        fs.rmSync(nameFile, { force: true });
        await l.close();
      },
    };
  } catch (e) {
    const err = e instanceof Error ? e.message : String(e);
    vlog.error({ event: EVENT.volumePluginError, plugin: name, socket, err }, `volume plugin ${name}: ${err}`);
    return undefined;
  }
}
