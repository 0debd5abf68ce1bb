// What a loaded service file is to the rest of ferry.
import type { ConfigDocument } from './document.js';
import type { ConfigError } from './errors.js';
import type { DriverSpec } from '../resources/types.js';
import type { TableValues } from './values.js';

export interface ResourceSection {
  /** "fs#1" */
  rid: string;
  /** "fs" */
  group: string;
  /** "1" */
  index: string;
  /** line of the section header */
  line: number;
  driver: DriverSpec;
  /** resolved `type` (the driver's default when not given) */
  type: string;
  /** driver keywords plus the common resource keywords, scoped, resolved, typed, defaulted */
  kw: TableValues;
}

export interface SubsetSection {
  /** "container" */
  group: string;
  /** "docker" when written [subset#container.docker:name] */
  type: string | undefined;
  /** "01appservers" */
  name: string;
  parallel: boolean;
  line: number;
}

export interface ServiceConfig {
  svcname: string;
  file: string;
  /** node the values were resolved for (key@node scoping, {nodename}) */
  nodename: string;
  doc: ConfigDocument;
  /** [DEFAULT] values */
  defaults: TableValues;
  /** [env] free keys, raw */
  env: Record<string, string>;
  resources: ResourceSection[];
  subsets: SubsetSection[];
  /** non-fatal findings (warnings) */
  warnings: ConfigError[];
}
