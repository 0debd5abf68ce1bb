// What a loaded service file is to the rest of ferry.
import type { ConfigDocument } from './document.js';
import type { ConfigError } from './errors.js';
import type { DriverSchema } from '../vocab/keywords.js';
import type { TableValues } from './values.js';

/** D: the drivers' type as given to the loader (src/resources' DriverSpec for the service layer). */
export interface ResourceSection<D extends DriverSchema = DriverSchema> {
  /** "fs#1" */
  rid: string;
  /** "fs" */
  group: string;
  /** "1" */
  index: string;
  /** line of the section header */
  line: number;
  driver: D;
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

export interface ServiceConfig<D extends DriverSchema = DriverSchema> {
  svcname: string;
  file: string;
  /** node the values were resolved for (key@node scoping, {nodename}) */
  nodename: string;
  doc: ConfigDocument;
  /** [DEFAULT] values */
  defaults: TableValues;
  /** [env] free keys, raw */
  env: Record<string, string>;
  resources: ResourceSection<D>[];
  subsets: SubsetSection[];
  /** non-fatal findings (warnings) */
  warnings: ConfigError[];
}
