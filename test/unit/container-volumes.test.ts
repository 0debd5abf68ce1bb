// Declared volumes ([DEFAULT] volumes) and the volume_mounts that name them: the rules across
// keywords as file:line errors of the service file, and the engine commands the driver runs.
import test from 'ava';
import { validateText } from '../../src/config/validate.js';
import { drivers } from '../../src/resources/registry.js';
import { mountedVolumes, undeclaredVolumeProblems, volumeCreateArgs, volumeInspectArgs } from '../../src/resources/container-volumes.js';
import { checkVolumeMount } from '../../src/resources/container-args.js';

const file = (defaults: string[], mounts: string): string =>
  ['[DEFAULT]', 'nodes = node1', ...defaults, '', '[container#1]', 'type = docker', 'run_image = busybox', `volume_mounts = ${mounts}`, ''].join('\n');

const errors = (text: string): string[] => validateText(text, 'svc.env', { svcname: 'svc', nodename: 'node1', drivers }).errors.map(String);

test('a service declaring its volumes, mounted by a container: no problem', (t) => {
  t.deepEqual(errors(file(['volumes_dir = /srv/svc/volumes', 'volumes = pgdata logs'], 'pgdata:/var/lib/pg logs:/logs:ro /etc/hosts:/etc/hosts:ro')), []);
  // host paths only: no declaration needed
  t.deepEqual(errors(file([], '/srv/a:/a')), []);
});

test('bad declared names, undeclared volumes, relative container paths: one file:line error each', (t) => {
  t.deepEqual(errors(file(['volumes_dir = /v', 'volumes = a/b'], '/x:/x')), ['svc.env:4: bad value "a/b" for volumes: bad volume name "a/b": it contains "/"']);
  t.deepEqual(errors(file(['volumes_dir = /v', 'volumes = a..b'], '/x:/x')), ['svc.env:4: bad value "a..b" for volumes: bad volume name "a..b": it contains ".."']);
  t.deepEqual(errors(file(['volumes_dir = /v', 'volumes = a a'], '/x:/x')), ['svc.env:4: bad value "a a" for volumes: volume "a" is declared twice']);
  t.deepEqual(errors(file(['volumes_dir = /v', 'volumes = pgdata'], 'other:/data')), [
    'svc.env:9: [container#1] volume_mounts: volume "other" is not declared in [DEFAULT] volumes (declared: pgdata); a host directory is an absolute path',
  ]);
  t.deepEqual(errors(file([], 'pgdata:/data')), [
    'svc.env:7: [container#1] volume_mounts: volume "pgdata" is not declared in [DEFAULT] volumes (declared: none); a host directory is an absolute path',
  ]);
  t.deepEqual(errors(file(['volumes_dir = /v', 'volumes = pgdata'], 'pgdata:data')), ['svc.env:9: bad value "pgdata:data" for volume_mounts: "pgdata:data": the container path must be absolute']);
  t.deepEqual(errors(file(['volumes_dir = /v', 'volumes = pgdata'], 'pg..data:/data')), ['svc.env:9: bad value "pg..data:/data" for volume_mounts: "pg..data:/data": bad volume name "pg..data": it contains ".."']);
  t.deepEqual(errors(file(['volumes = pgdata'], 'pgdata:/data')), [
    'svc.env:3: [DEFAULT] volumes pgdata declared without volumes_dir: the directory they live in is required',
    'svc.env:8: [container#1] volume_mounts: volume "pgdata" needs the service\'s volumes_dir ([DEFAULT] volumes_dir)',
  ]);
});

test('volume_mounts: which entries are volumes, the engine commands', (t) => {
  t.deepEqual(mountedVolumes(['pgdata:/a', '/srv:/b', 'pgdata:/c:ro', 'logs:/d']), ['pgdata', 'logs']);
  t.deepEqual(undeclaredVolumeProblems(['pgdata:/a', '/srv:/b'], ['pgdata'], '/v'), []);
  t.is(undeclaredVolumeProblems(['x:/a'], ['pgdata'], '/v').length, 1);
  for (const bad of ['./a:/b', '.a:/b', 'a/b:/c', ':/b']) t.not(checkVolumeMount(bad), undefined, bad);
  t.deepEqual(volumeInspectArgs('pgdata'), ['volume', 'inspect', '--format', '{{.Driver}}', '--', 'pgdata']);
  t.deepEqual(volumeCreateArgs('ferry', 'web', 'pgdata'), ['volume', 'create', '--driver', 'ferry', '--opt', 'service=web', '--', 'pgdata']);
});
