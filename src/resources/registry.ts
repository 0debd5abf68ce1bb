// Every resource driver ferry knows, by section group name.
import type { DriverSpec } from './types.js';
import { driver as ip } from './ip.js';
import { driver as vg } from './vg.js';
import { driver as disk } from './disk.js';
import { driver as fs } from './fs.js';
import { driver as container } from './container.js';
import { driver as app } from './app.js';
import { driver as sync } from './sync.js';
import { driver as task } from './task.js';

export const drivers: readonly DriverSpec[] = [ip, vg, disk, fs, container, app, sync, task];

export function findDriver(section: string): DriverSpec | undefined {
  return drivers.find((d) => d.section === section);
}
