// ava configuration for the VM lane (npm run test:vm): only dist/test/vm, one test at a time
// (each test boots a qemu TCG guest), generous timeout (a run takes 15-45 s on a loaded host).
export default {
  files: ['dist/test/vm/**/*.test.js'],
  concurrency: 1,
  serial: true,
  timeout: '8m',
  workerThreads: false,
};
