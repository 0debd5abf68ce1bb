// Driver tables for the config unit tests, so they do not move when real drivers change.
import type { DriverSpec } from '../../src/resources/types.js';
import type { Keyword } from '../../src/vocab/keywords.js';

function spec(section: string, types: string[], keywords: Keyword[]): DriverSpec {
  return {
    section,
    kind: section === 'vg' ? 'disk' : (section as DriverSpec['kind']),
    types,
    keywords,
    description: `fake ${section}`,
    create() {
      throw new Error('not for config tests');
    },
  };
}

export const fakeDrivers: readonly DriverSpec[] = [
  spec('ip', [], [
    { name: 'ipname', aliases: ['name'], type: 'string', required: true, scopable: true, description: 'address' },
    { name: 'ipdev', aliases: ['dev'], type: 'string', required: true, scopable: true, description: 'device' },
    { name: 'netmask', type: 'integer', scopable: true, description: 'prefix length' },
  ]),
  spec('vg', [], [
    { name: 'vgname', aliases: ['name'], type: 'string', required: true, description: 'vg' },
    { name: 'scsireserv', aliases: ['scsi_reserve'], type: 'boolean', default: false, description: 'pr' },
  ]),
  spec('fs', ['ext4', 'xfs'], [
    { name: 'mnt', type: 'string', required: true, description: 'mount point' },
    { name: 'dev', type: 'string', required: true, description: 'device' },
    { name: 'mnt_opt', type: 'string', description: 'options' },
    { name: 'fsck', type: 'boolean', types: ['ext4'], description: 'fsck first' },
  ]),
  spec('container', ['docker', 'podman'], [
    { name: 'run_image', aliases: ['image'], type: 'string', required: true, scopable: true, description: 'image' },
    { name: 'run_args', type: 'shlex', scopable: true, description: 'args' },
    { name: 'run_command', aliases: ['command'], type: 'shlex', description: 'command' },
  ]),
  spec('app', ['forking', 'ocf'], [
    { name: 'start', type: 'shlex', scopable: true, types: ['forking'], description: 'start' },
    { name: 'stop', type: 'shlex', types: ['forking'], description: 'stop' },
    { name: 'agent', type: 'string', required: true, types: ['ocf'], description: 'agent' },
    { name: 'timeout', type: 'duration', default: 60_000, scopable: true, description: 'timeout' },
  ]),
];

export const opts = (nodename = 'node1', svcname = 'svc1') => ({ svcname, nodename, drivers: fakeDrivers });
