// nftables inside a lab node's network namespace (packet loss, partitions): each user owns
// one private table and replaces it as a whole.
import fs from 'node:fs';
import { run, type RunResult } from '../util/exec.js';

// By absolute path: under `npx` (ava, npm scripts) node_modules/.bin comes first on PATH, and
// @vercel/nft (an ava dependency) installs a `nft` there that exits 0 doing nothing useful.
const NFT = ['/usr/sbin/nft', '/sbin/nft'].find((p) => fs.existsSync(p)) ?? 'nft';

export function nftIn(netns: string, args: string[], input?: string): Promise<RunResult> {
  return run('nsenter', [`--net=/run/netns/${netns}`, '--', NFT, ...args], { timeout: 10_000, input });
}
