// The node takes itself out: a crash (or reboot) through the kernel's sysrq trigger, so
// that what it runs stops at once and its peers may safely take over. Used by monitor_action
// crash/reboot and by split_action. FERRY_CRASH_CMD / FERRY_REBOOT_CMD replace the commands
// (the lab powers a lab node off instead of the machine).
import type { Logger } from '../log.js';
import { run } from '../util/exec.js';
import { EVENT } from '../events.js';

export type SelfFence = 'crash' | 'reboot';

export function selfFenceCommand(kind: SelfFence): string {
  const env = kind === 'reboot' ? process.env.FERRY_REBOOT_CMD : process.env.FERRY_CRASH_CMD;
  return env ?? (kind === 'reboot' ? 'systemctl reboot --force' : 'echo c > /proc/sysrq-trigger');
}

export function selfFence(kind: SelfFence, why: string, log: Logger): void {
  const cmd = selfFenceCommand(kind);
  log.fatal({ event: EVENT.selfFence, kind, cmd, why }, `${kind}: ${why}`);
  void run('/bin/sh', ['-c', cmd], { timeout: 30_000 });
}
