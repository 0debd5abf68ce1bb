// Where ferry keeps its files. FERRY_ROOT relocates everything under one directory so tests
// and lab nodes each get their own tree without touching the host's /etc, /var and /run.
import path from 'node:path';

export interface FerryPaths {
  root: string | undefined;
  etc: string;
  services: string;
  var: string;
  log: string;
  run: string;
}

export function ferryPaths(env: NodeJS.ProcessEnv = process.env): FerryPaths {
  const root = env.FERRY_ROOT && env.FERRY_ROOT.length > 0 ? path.resolve(env.FERRY_ROOT) : undefined;
  if (root) {
    return {
      root,
      etc: path.join(root, 'etc'),
      services: path.join(root, 'etc', 'services'),
      var: path.join(root, 'var'),
      log: path.join(root, 'log'),
      run: path.join(root, 'run'),
    };
  }
  return {
    root: undefined,
    etc: '/etc/ferry',
    services: '/etc/ferry/services',
    var: '/var/lib/ferry',
    log: '/var/log/ferry',
    run: '/run/ferry',
  };
}

/** State directory of one service: frozen flag, action lock, last status. */
export function serviceVarDir(paths: FerryPaths, svcname: string): string {
  return path.join(paths.var, 'services', svcname);
}

/** the name of the volume plugin the daemon serves, present while it listens (docs/volume-plugin.md) */
export function volumePluginFile(paths: FerryPaths): string {
  return path.join(paths.var, 'volume-plugin');
}
