// The name this node goes by in `nodes` lists, `key@node` scoping and host tags.
import os from 'node:os';

export function nodename(env: NodeJS.ProcessEnv = process.env): string {
  const forced = env.FERRY_NODENAME;
  if (forced && forced.length > 0) return forced;
  return os.hostname();
}
