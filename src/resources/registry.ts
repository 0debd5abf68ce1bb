// Every resource driver ferry knows, by section group name. ip, vg, disk, fs and container are
// lazy (lazy-driver.ts): their schemas here, their implementations loaded by a resource's first
// use. app, sync (sync#i0 is in every service) and task are small and stay eager.
import type { DriverSpec } from './types.js';
import { driver as ip } from './ip-driver.js';
import { driver as vg } from './vg-driver.js';
import { driver as disk } from './disk-driver.js';
import { driver as fs } from './fs-driver.js';
import { driver as container } from './container-driver.js';
import { driver as app } from './app.js';
import { driver as sync } from './sync.js';
import { driver as task } from './task.js';

export const drivers: readonly DriverSpec[] = [ip, vg, disk, fs, container, app, sync, task];

export function findDriver(section: string): DriverSpec | undefined {
  return drivers.find((d) => d.section === section);
}
