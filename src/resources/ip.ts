// STUB — to be replaced by the real driver.
import type { DriverSpec } from './types.js';

export const driver: DriverSpec = {
  section: 'ip',
  kind: 'ip',
  types: [],
  keywords: [],
  description: 'stub',
  create() {
    throw new Error('not implemented');
  },
};
