// The arguments rsync gives its remote shell: our options, the host, then the remote command.

export interface Args {
  svc: string;
  rid: string;
  final: boolean;
  timeoutMs: number;
  peer: string;
  /** empty when held without a command: it comes on fd 4 (held-transport.ts) */
  remote: string[];
  /**
   * pre-opened (src/resources/held-transport.ts): "R" on fd 3 once ready (authenticated, and
   * the peer's command runs when given here); nothing from stdin is sent before the go on
   * fd 4 (NUL-separated, ended by an empty string: the remote command when not given here,
   * else nothing); fd 4 closed before the go: exit 255 with nothing sent.
   */
  held: boolean;
  /** held rsync: the directory of the FIFOs go, in, out that rsync's remote shell (the shim) opens */
  fifo?: string;
}

export function parseTransportArgs(argv: readonly string[]): Args | string {
  let svc: string | undefined;
  let rid: string | undefined;
  let final = false;
  let held = false;
  let fifo: string | undefined;
  let timeoutMs = 3_600_000;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--svc') svc = argv[++i];
    else if (a === '--rid') rid = argv[++i];
    else if (a === '--final') final = true;
    else if (a === '--held') held = true;
    else if (a === '--fifo') fifo = argv[++i];
    else if (a === '--timeout') timeoutMs = Number(argv[++i]) * 1000;
    else if (a === '-l') i++; // rsync's user@: ignored (the peer's daemon runs the command)
    else break;
  }
  const peer = argv[i];
  const remote = argv.slice(i + 1);
  if (!svc || !rid || !peer || (held ? (fifo ? remote.length !== 0 : remote.length < 2) : remote.length < 2 || fifo !== undefined) || !Number.isFinite(timeoutMs) || timeoutMs <= 0) return 'usage: ferry-rsync-transport --svc <svc> --rid <rid> [--final] [--held [--fifo <dir>]] <peer> rsync --server ...';
  return { svc, rid, final, timeoutMs, peer, remote, held, ...(fifo ? { fifo } : {}) };
}
