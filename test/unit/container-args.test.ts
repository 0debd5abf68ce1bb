// The container run-option keywords: their checks (file:line errors from validation) and the
// options they become.
import test from 'ava';
import { validateText } from '../../src/config/validate.js';
import {
  checkDevice,
  checkEnvironment,
  checkHostname,
  checkNetns,
  checkUser,
  checkVolumeMount,
  networkOption,
  parseNetns,
  runOptionArgs,
} from '../../src/resources/container-args.js';
import { drivers } from '../../src/resources/registry.js';

test('netns forms', (t) => {
  t.deepEqual(parseNetns('host'), { kind: 'mode', mode: 'host' });
  t.deepEqual(parseNetns('container#1'), { kind: 'rid', rid: 'container#1' });
  t.deepEqual(parseNetns('container:db.1'), { kind: 'container', name: 'db.1' });
  t.deepEqual(parseNetns('/var/run/netns/blue'), { kind: 'path', path: '/var/run/netns/blue' });
  for (const bad of ['', 'container:-x', 'container#', '/a/../b', '/a b', 'bridge,host', '--net=host']) t.not(checkNetns(bad), undefined, bad);
  t.is(networkOption('podman', { kind: 'path', path: '/var/run/netns/b' }), 'ns:/var/run/netns/b');
  t.true(typeof networkOption('docker', { kind: 'path', path: '/var/run/netns/b' }) !== 'string');
  t.is(networkOption('docker', { kind: 'rid', rid: 'container#1' }, 'abc'), 'container:abc');
});

test('list checks: environment, volume_mounts, devices', (t) => {
  t.is(checkEnvironment('A=1 "B=x y" C='), undefined);
  t.regex(checkEnvironment('A=1 B')!, /"B": expected KEY=value/);
  t.regex(checkEnvironment('1A=x')!, /"1A"/);
  t.regex(checkEnvironment('"A=1')!, /quote/i);
  t.is(checkVolumeMount('/srv/a:/a /srv/b:/b:ro,z data:/data'), undefined);
  for (const bad of ['/srv/a', 'a:b', '-v:/x', '/a:/b:ro:x', '/a:/b:r o']) t.not(checkVolumeMount(bad), undefined, bad);
  t.is(checkDevice('/dev/null /dev/zero:/dev/z /dev/fuse:/dev/fuse:rwm /dev/loop0:rw'), undefined);
  for (const bad of ['null', '/dev/null:z', '/dev/a:/dev/b:x', '/dev/a:b:r', '/dev/a:/b:r:x']) t.not(checkDevice(bad), undefined, bad);
});

test('hostname and user', (t) => {
  for (const ok of ['', 'web', 'web-1.example.com']) t.is(checkHostname(ok), undefined, ok);
  for (const bad of ['-web', 'a..b', 'a_b', 'x'.repeat(64), 'a b']) t.not(checkHostname(bad), undefined, bad);
  for (const ok of ['', 'nobody', '1000', '1000:1000', 'www-data:adm']) t.is(checkUser(ok), undefined, ok);
  for (const bad of ['-u', 'a:b:c', 'a b', ':x', 'a:']) t.not(checkUser(bad), undefined, bad);
});

test('run options are one argv word each', (t) => {
  t.deepEqual(
    runOptionArgs({
      network: 'container:abc',
      volumeMounts: ['/a:/a:ro'],
      environment: ['A=x y', 'B=--privileged'],
      entrypoint: '-x',
      entrypointArgs: [],
      hostname: 'h',
      privileged: true,
      interactive: true,
      tty: true,
      rm: true,
      devices: ['/dev/null'],
      user: '1000:1000',
    }),
    ['--network=container:abc', '--volume=/a:/a:ro', '--env=A=x y', '--env=B=--privileged', '--entrypoint=-x', '--hostname=h', '--privileged', '--interactive', '--tty', '--rm', '--device=/dev/null', '--user=1000:1000'],
  );
  t.deepEqual(runOptionArgs({ volumeMounts: [], environment: [], entrypointArgs: [], privileged: false, interactive: false, tty: false, rm: false, devices: [] }), []);
});

test('bad values are file:line errors of the service file', (t) => {
  const text = [
    '[DEFAULT]', // 1
    'nodes = node1', // 2
    '[container#1]', // 3
    'type = docker', // 4
    'run_image = busybox', // 5
    'netns = elsewhere', // 6
    'environment = A=1 B', // 7
    'volume_mounts = /a', // 8
    'devices = null', // 9
    'hostname = -h', // 10
    'user = a:b:c', // 11
    'privileged = maybe', // 12
    'run_args = -e A=1 -- x', // 13
    'name = -x', // 14
    'tty = yes', // 15
  ].join('\n');
  const r = validateText(text, 'svc.env', { svcname: 'svc', nodename: 'node1', drivers });
  const lines = r.errors.map((e) => String(e).split(': ')[0]);
  t.deepEqual(lines, ['svc.env:6', 'svc.env:7', 'svc.env:8', 'svc.env:9', 'svc.env:10', 'svc.env:11', 'svc.env:12', 'svc.env:13', 'svc.env:14'], r.errors.map(String).join('\n'));
  t.regex(String(r.errors[0]), /^svc\.env:6: bad value "elsewhere" for netns: expected host, none/);
});
