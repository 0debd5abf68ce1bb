// The volume plugin's answers: each request of protocol.ts against the volumes on the storage
// of the services (store.ts). What it knows of the daemon comes through VolumeEnv (which
// services exist, where they run, their volumes_dir): it never reads the daemon's state
// itself. Mount ids are kept in memory (a restart of the daemon forgets them, as a restart of
// dockerd re-mounts). Every answer is an object; a refusal is `{ Err: "<one line>" }`.
import fs from 'node:fs';
import type { Logger } from '../../log.js';
import { EVENT } from '../../events.js';
import { ACTIVATE_ANSWER, CAPABILITIES_ANSWER, notHereProblem, type PluginRequest, type ServicePlace } from './protocol.js';
import { createVolume, listVolumes, readVolume, removeVolume, volumePath, type VolumeMeta } from './store.js';

export interface VolumeEnv {
  /** the services configured on this node */
  services(): string[];
  place(svc: string): ServicePlace;
  /** the service's [DEFAULT] volumes_dir (absolute), undefined when unset, or why it cannot be read */
  volumesDir(svc: string): string | undefined | { error: string };
}

export type Answer = Record<string, unknown>;

class Refusal extends Error {}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

export class VolumePlugin {
  private readonly mounts = new Map<string, Set<string>>();

  constructor(
    private readonly env: VolumeEnv,
    private readonly log: Logger,
  ) {}

  /** mount ids of a volume (for tests and status) */
  mountsOf(name: string): string[] {
    return [...(this.mounts.get(name) ?? [])];
  }

  answer(req: PluginRequest): Answer {
    try {
      return this.dispatch(req);
    } catch (e) {
      const err = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
      this.log.warn({ event: EVENT.volumeRefused, op: req.op, volume: 'name' in req ? req.name : undefined, err }, `volume ${req.op}: ${err}`);
      return { Err: err };
    }
  }

  private dispatch(req: PluginRequest): Answer {
    switch (req.op) {
      case 'activate':
        return ACTIVATE_ANSWER;
      case 'capabilities':
        return CAPABILITIES_ANSWER;
      case 'list':
        return { Volumes: this.here().map((v) => ({ Name: v.meta.name, Mountpoint: v.path })), Err: '' };
      case 'create':
        return this.create(req.name, req.opts.service);
      case 'get': {
        const v = this.find(req.name);
        return { Volume: { Name: v.meta.name, Mountpoint: v.path, Status: { service: v.meta.service, created: v.meta.created, mounts: this.mountsOf(req.name).length } }, Err: '' };
      }
      case 'path':
        return { Mountpoint: this.find(req.name).path, Err: '' };
      case 'mount': {
        const v = this.find(req.name);
        const ids = this.mounts.get(req.name) ?? new Set<string>();
        ids.add(req.id);
        this.mounts.set(req.name, ids);
        this.log.info({ event: EVENT.volumeMounted, volume: req.name, svc: v.meta.service, id: req.id, path: v.path }, `volume ${req.name} mounted (${v.path})`);
        return { Mountpoint: v.path, Err: '' };
      }
      case 'unmount': {
        const ids = this.mounts.get(req.name);
        ids?.delete(req.id);
        if (ids && ids.size === 0) this.mounts.delete(req.name);
        this.log.info({ event: EVENT.volumeUnmounted, volume: req.name, id: req.id }, `volume ${req.name} unmounted`);
        return { Err: '' };
      }
      case 'remove': {
        const v = this.find(req.name);
        const n = this.mountsOf(req.name).length;
        if (n > 0) throw new Refusal(`volume ${req.name} is in use (${n} mount${n > 1 ? 's' : ''})`);
        removeVolume(v.base, req.name);
        this.log.info({ event: EVENT.volumeRemoved, volume: req.name, svc: v.meta.service, path: v.path }, `volume ${req.name} of ${v.meta.service} removed`);
        return { Err: '' };
      }
    }
  }

  /** the volumes_dir of a service running here, or the refusal */
  private baseOf(svc: string): string {
    const bad = notHereProblem(svc, this.env.place(svc));
    if (bad) throw new Refusal(bad);
    const base = this.env.volumesDir(svc);
    if (base === undefined || base === '') throw new Refusal(`service ${svc} has no volumes_dir ([DEFAULT] volumes_dir): it cannot hold volumes`);
    if (typeof base !== 'string') throw new Refusal(`service ${svc}: ${base.error}`);
    if (!base.startsWith('/')) throw new Refusal(`service ${svc}: volumes_dir "${base}" is not an absolute path`);
    return base;
  }

  private create(name: string, svc: string | undefined): Answer {
    if (svc === undefined || svc === '') throw new Refusal(`volume ${name}: give its service (-o service=<svc>)`);
    const base = this.baseOf(svc);
    const other = this.here().find((v) => v.meta.name === name && v.meta.service !== svc);
    if (other) throw new Refusal(`volume ${name} already belongs to service ${other.meta.service}`);
    if (readVolume(base, name)) return { Err: '' }; // docker may create twice: idempotent
    const p = volumePath(base, name);
    if (fs.existsSync(p) || isLink(p)) throw new Refusal(`volume ${name}: ${p} exists and is not a ferry volume`);
    createVolume(base, name, svc);
    this.log.info({ event: EVENT.volumeCreated, volume: name, svc, path: p }, `volume ${name} of ${svc} created (${p})`);
    return { Err: '' };
  }

  /** volumes of the services running here */
  private here(): { meta: VolumeMeta; base: string; path: string }[] {
    const out: { meta: VolumeMeta; base: string; path: string }[] = [];
    for (const svc of this.env.services()) {
      const place = this.env.place(svc);
      if (!place.here) continue;
      const base = this.env.volumesDir(svc);
      if (typeof base !== 'string' || !base.startsWith('/')) continue;
      for (const meta of listVolumes(base)) if (meta.service === svc) out.push({ meta, base, path: volumePath(base, meta.name) });
    }
    return out;
  }

  /** a volume of a service running here; refused with where its service runs when it is another's */
  private find(name: string): { meta: VolumeMeta; base: string; path: string } {
    const v = this.here().find((x) => x.meta.name === name);
    if (v) return v;
    // visible in the volumes_dir of a service that does not run here (a local dir, a network fs)
    for (const svc of this.env.services()) {
      const base = this.env.volumesDir(svc);
      if (typeof base !== 'string' || !base.startsWith('/')) continue;
      const m = readVolume(base, name);
      if (m && m.service === svc) throw new Refusal(notHereProblem(svc, this.env.place(svc)) ?? `volume ${name} not found`);
    }
    throw new Refusal(`volume ${name} not found on the services running here`);
  }
}
