// The services defined on this node (its own module: the CLI's fast paths list them without
// loading the service layer).
import fs from 'node:fs';
import type { FerryPaths } from '../paths.js';

/** Every service defined on this node, by name. */
export function listServices(paths: FerryPaths): string[] {
  if (!fs.existsSync(paths.services)) return [];
  return fs
    .readdirSync(paths.services)
    .filter((f) => f.endsWith('.env'))
    .map((f) => f.slice(0, -'.env'.length))
    .sort();
}
