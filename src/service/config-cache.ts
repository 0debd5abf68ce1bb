// The daemon's services, parsed once: a Service is built again only when its file changed
// (inode, size, mtime, ctime). What drivers read at each status (the live state) is not
// cached here, only the configuration and the resources built from it.
import fs from 'node:fs';
import { locateService } from '../config/load.js';
import type { FerryPaths } from '../paths.js';
import { Service } from './service.js';

/** inode, size, mtime, ctime of a file, or undefined when it cannot be stat'ed */
export function fileSig(file: string): string | undefined {
  try {
    const s = fs.statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return undefined;
  }
}

export class ServiceCache {
  private readonly cache = new Map<string, { sig: string; svc: Service }>();
  /** builds since the start (the idle bench and tests read it) */
  builds = 0;

  constructor(
    private readonly paths: FerryPaths,
    private readonly nodename: string,
  ) {}

  /** The service as its file is now (`sig`: its fileSig, when the caller has it); throws as Service.open does (a broken file is never cached). */
  open(name: string, sig = fileSig(locateService(this.paths, name).file)): Service {
    const hit = this.cache.get(name);
    if (sig !== undefined && hit?.sig === sig) return hit.svc;
    this.cache.delete(name);
    const svc = Service.open(this.paths, name, this.nodename);
    this.builds++;
    if (sig !== undefined) this.cache.set(name, { sig, svc });
    return svc;
  }

  /** The service as last opened, without looking at its file again (the caller has just done so). */
  peek(name: string): Service | undefined {
    return this.cache.get(name)?.svc;
  }

  forget(name: string): void {
    this.cache.delete(name);
  }
}
