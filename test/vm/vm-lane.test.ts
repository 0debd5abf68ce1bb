// VM lane: real SCSI-3 persistent reservations (LIO, two tcm_loop initiators on one LUN) and
// real LVM activation (device-mapper) inside a Debian kernel booted under qemu TCG, with the
// host root shared read-only over 9p. The host kernel has neither device-mapper nor SCSI, so
// these are the only tests that exercise sg_persist and `vgchange -ay` for real.
// Needs scripts/vm/setup.sh (qemu-system-x86, linux-image-amd64, kmod, busybox-static, cpio,
// sg3-utils, lvm2). Never skips: without them every test fails with run.sh's message.
// Runs serially: each test boots one VM (~1 vCPU of TCG) on a shared 2-core host.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { digest, guestScript, runLane } from './lane.js';
import type { LaneResult } from './lane.js';

const PER_TEST_MS = 6 * 60_000;

/** Every expected check reported, each ok, and the script ran to its end with exit 0. */
function assertChecks(t: ExecutionContext, r: LaneResult, expected: string[]): void {
  t.log(
    `wall ${r.wallS.toFixed(1)}s, guest userspace at ${r.bootS ?? '?'}s, script end at ${r.scriptEndS ?? '?'}s guest uptime, ` +
      `${r.checks.filter((c) => c.ok).length}/${r.checks.length} checks ok`,
  );
  const names = new Set(r.checks.map((c) => c.name));
  const missing = expected.filter((n) => !names.has(n));
  t.deepEqual(missing, [], `checks not reported by the guest:\n${digest(r)}`);
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  t.deepEqual(failed, [], `failed checks:\n${digest(r)}`);
  t.true(r.done, `guest script did not reach its end:\n${digest(r)}`);
  t.is(r.exitCode, 0, digest(r));
}

test.serial('vm lane: plumbing (exit code, arguments, FERRY_GUEST_* env, Debian kernel, host root)', async (t) => {
  t.timeout(PER_TEST_MS);
  const dir = fs.mkdtempSync('/tmp/ferry-vmtest-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = `${dir}/guest.sh`;
  fs.writeFileSync(
    script,
    [
      'echo "ARGS $# [$1] [$2]"',
      'echo "ENV [$FERRY_GUEST_HELLO]"',
      'echo "KERNEL $(uname -r)"',
      'echo "ROOTFS $(findmnt -n -o FSTYPE /)"',
      'echo "TOOLS $(command -v sg_persist lvm node | tr "\\n" " ")"',
      'exit 7',
      '',
    ].join('\n'),
  );
  const r = await runLane(script, { args: ['one', 'two words'], env: { FERRY_GUEST_HELLO: 'hi there' }, timeoutS: 180 });
  t.log(`wall ${r.wallS.toFixed(1)}s, guest userspace at ${r.bootS ?? '?'}s`);
  t.is(r.exitCode, 7, digest(r));
  t.regex(r.stdout, /^ARGS 2 \[one\] \[two words\]$/m, digest(r));
  t.regex(r.stdout, /^ENV \[hi there\]$/m, digest(r));
  t.regex(r.stdout, /^KERNEL \d+\.\d+\.\d+-\d+-amd64$/m, digest(r));
  t.regex(r.stdout, /^ROOTFS overlay$/m, digest(r));
  t.regex(r.stdout, /^TOOLS \/usr\/bin\/sg_persist \/usr\/sbin\/lvm \/usr\/bin\/node $/m, digest(r));
  t.truthy(r.tmpDir, digest(r));
  t.false(fs.existsSync(r.tmpDir!), `temp dir ${r.tmpDir} left behind`);
});

test.serial('vm lane: a missing kernel fails loudly (exit 125 and a message), never skips', async (t) => {
  t.timeout(PER_TEST_MS);
  const r = await runLane(guestScript('pr.sh'), { env: { FERRY_VM_KERNEL: '0.0.0-ferry-missing' } });
  t.is(r.exitCode, 125, digest(r));
  t.regex(r.stderr, /no Debian kernel in \/boot .*linux-image-amd64/, digest(r));
});

test.serial('vm lane: hard timeout kills qemu, exits 124, cleans up', async (t) => {
  t.timeout(PER_TEST_MS);
  const dir = fs.mkdtempSync('/tmp/ferry-vmtest-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = `${dir}/sleep.sh`;
  fs.writeFileSync(script, 'echo SLEEPING; sleep 600\n');
  const r = await runLane(script, { timeoutS: 15 });
  t.is(r.exitCode, 124, digest(r));
  t.truthy(r.tmpDir, digest(r));
  t.false(fs.existsSync(r.tmpDir!), `temp dir ${r.tmpDir} left behind`);
  // no qemu of this run left: its command line names the run's temp dir
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  t.false(ps.includes(r.tmpDir!), `qemu of ${r.tmpDir} still running:\n${ps}`);
});

test.serial('vm lane: SCSI-3 PR type 5 with sg_persist (register, reserve, fence by preempt, release)', async (t) => {
  t.timeout(PER_TEST_MS);
  const r = await runLane(guestScript('pr.sh'));
  assertChecks(t, r, [
    'lio-setup',
    'pr-initially-no-keys',
    'pr-register-a',
    'pr-register-b',
    'pr-keys-seen-from-a',
    'pr-keys-seen-from-b',
    'pr-reserve-a',
    'pr-b-sees-reservation',
    'pr-reservation-type-5',
    'pr-b-reserve-conflicts',
    'pr-holder-write-ok',
    'pr-registrant-write-ok',
    'pr-unregister-b',
    'pr-b-key-gone',
    'pr-unregistered-raw-write-conflict',
    'pr-unregistered-blk-write-fails',
    'pr-unregistered-read-ok',
    'pr-unregistered-reserve-conflict',
    'pr-reregister-b',
    'pr-preempt',
    'pr-preempt-moves-reservation',
    'pr-preempt-removes-victim-key',
    'pr-loser-ua-registrations-preempted',
    'pr-loser-raw-write-conflict',
    'pr-loser-blk-write-fails',
    'pr-loser-write-not-persisted',
    'pr-loser-reserve-conflict',
    'pr-winner-write-ok',
    'pr-release',
    'pr-no-reservation',
    'pr-unregister',
    'pr-no-keys',
    'pr-write-after-release',
  ]);
});

test.serial('vm lane: LVM on a shared LUN (per-node filters, activation, host tags)', async (t) => {
  t.timeout(PER_TEST_MS);
  const r = await runLane(guestScript('lvm.sh'));
  assertChecks(t, r, [
    'lio-setup',
    'lvm-pvcreate',
    'lvm-vgcreate',
    'lvm-both-paths-duplicate',
    'lvm-both-paths-pv-refused',
    'lvm-both-paths-no-activation',
    'lvm-lvcreate',
    'lvm-initial-deactivate',
    'lvm-inactive-no-node',
    'lvm-a-activate',
    'lvm-a-dev',
    'lvm-a-dm-on-sda',
    'lvm-a-lv-active',
    'lvm-a-write',
    'lvm-a-addtag',
    'lvm-a-tag-visible',
    'lvm-a-deactivate',
    'lvm-a-dm-gone',
    'lvm-b-sees-pv',
    'lvm-b-sees-tag',
    'lvm-b-retag',
    'lvm-b-tag',
    'lvm-b-activate',
    'lvm-b-dm-on-sdb',
    'lvm-b-reads-a-data',
    'lvm-b-deactivate',
    'lvm-a-sees-b-tag',
    'lvm-no-dm-left',
  ]);
});

test.serial('vm lane: fenced LVM failover (B preempts A; A\'s LV and metadata writes refused)', async (t) => {
  t.timeout(PER_TEST_MS);
  const r = await runLane(guestScript('failover.sh'));
  assertChecks(t, r, [
    'lio-setup',
    'fo-a-register',
    'fo-a-reserve',
    'fo-a-vg',
    'fo-a-write',
    'fo-b-register',
    'fo-b-preempt',
    'fo-holder-b',
    'fo-a-lv-write-fenced',
    'fo-a-metadata-fenced',
    'fo-a-deactivate',
    'fo-b-sees-a-tag',
    'fo-b-retag',
    'fo-b-activate',
    'fo-b-data',
    'fo-b-write',
    'fo-b-data2',
    'fo-b-deactivate',
    'fo-a-sees-b-tag',
    'fo-b-release',
    'fo-clean',
  ]);
});

test.serial('vm lane: known limit, PREEMPT AND ABORT hangs uninterruptibly with tcm_loop', async (t) => {
  t.timeout(PER_TEST_MS);
  const r = await runLane(guestScript('preempt-abort.sh'));
  assertChecks(t, r, ['lio-setup', 'pa-setup', 'pa-hangs', 'pa-unkillable']);
});

test.serial('vm lane: daemon failover of vg (scsireserv) + fs + ip + app from a killed node, the reservation moving', async (t) => {
  t.timeout(8 * 60_000);
  const r = await runLane(guestScript('daemon-failover.sh'), { timeoutS: 420 });
  const timing = r.checks.find((c) => c.name === 'dfo-timing');
  if (timing) t.log(timing.detail);
  assertChecks(t, r, [
    'lio-setup',
    'dfo-vg',
    'dfo-lab',
    // manual svcmgr: unforced start refused while the peer holds the disk, --force preempts
    'dfo-manual-n2-start',
    'dfo-manual-n2-holds',
    'dfo-manual-start-refused',
    'dfo-manual-start-message',
    'dfo-manual-refused-no-register',
    'dfo-manual-force',
    'dfo-manual-force-holds',
    'dfo-manual-force-n2-key-gone',
    'dfo-manual-stop',
    'dfo-manual-clean',
    // the daemons: n1 runs the service, is killed, n2 takes over
    'dfo-n1-up',
    'dfo-n1-holder',
    'dfo-n1-type5',
    'dfo-n1-tag',
    'dfo-n2-sees-n1',
    'dfo-n2-standby',
    'dfo-kill-n1',
    'dfo-n1-app-dead',
    'dfo-n1-dm-removed',
    'dfo-n2-app',
    'dfo-n2-holder',
    'dfo-n2-holder-from-n1-path',
    'dfo-n1-key-gone',
    'dfo-n2-preempt-logged',
    'dfo-n2-tag',
    'dfo-n2-lv-active',
    'dfo-n2-dm-on-sdb',
    'dfo-n2-fs',
    'dfo-n2-ip',
    'dfo-n2-app-writes',
    'dfo-n1-write-refused',
    'dfo-n2-status',
    'dfo-n2-status-vg',
    'dfo-timing',
  ]);
});

test.serial('vm lane: fs type nfs (v3) and nfs4 against a real kernel nfsd; server gone: status answers, stop detaches', async (t) => {
  t.timeout(PER_TEST_MS);
  const r = await runLane(guestScript('nfs.sh'), { timeoutS: 300 });
  const timing = r.checks.find((c) => c.name === 'nfs-timing');
  if (timing) t.log(timing.detail);
  const happy = (s: string): string[] =>
    ['start', 'kernel-type', 'status-up', 'data-on-server', 'write-read', 'stop', 'unmounted', 'plain-umount', 'app-stopped'].map((c) => `${s}-${c}`);
  assertChecks(t, r, [
    'nfs-server',
    'nfs-server-versions',
    ...happy('nfs3svc'),
    ...happy('nfs4svc'),
    'nfs4svc-restart',
    'nfs4svc-writing',
    'nfs4svc-loop',
    'nfs4svc-server-gone',
    'nfs4svc-app-blocked',
    'nfs4svc-gone-status',
    'nfs4svc-gone-status-up',
    'nfs4svc-gone-stop',
    'nfs4svc-gone-unmounted',
    'nfs4svc-gone-forced',
    'nfs4svc-gone-app-dead',
    'nfs-timing',
  ]);
});
