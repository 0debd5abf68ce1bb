// V8 flags of the daemon's process, wherever it is launched: the shebang of
// src/cli/nodemgr.ts (/usr/bin/nodemgr, the systemd unit, `nodemgr daemon run` by hand; a unit
// test keeps the two equal), `nodemgr daemon start`, the lab's agent command.
//
// --max-semi-space-size=4: V8's young generation grows to 16 MB semi-spaces by default and
// keeps the pages it grew to; an idle daemon of 100 services held ~25 MB more resident than at
// 4 MB (docs/benchmarks.md, "Idle"). 4, not 1: at 5000 services the main thread allocates tens
// of MB a second and a 1 MB semi-space would scavenge (and promote) several times as often.
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
