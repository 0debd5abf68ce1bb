// The keyword the drivers with SCSI persistent reservations share (vg, disk): in its own module
// so that their schemas (vg-driver.ts, disk-driver.ts) load no reservation code.
import type { Keyword } from '../vocab/keywords.js';

export const noPreemptAbortKeyword: Keyword = {
  name: 'no_preempt_abort',
  type: 'boolean',
  default: false,
  scopable: true,
  description: 'With reservations: take a disk over from another node with PREEMPT instead of PREEMPT AND ABORT (which also aborts the commands the old holder has in flight, but hangs on some targets, e.g. Linux tcm_loop).',
};
