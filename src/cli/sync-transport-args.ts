// The arguments rsync gives its remote shell: our options, the host, then the remote command.

export interface Args {
  svc: string;
  rid: string;
  final: boolean;
  timeoutMs: number;
  peer: string;
  remote: string[];
}

export function parseTransportArgs(argv: readonly string[]): Args | string {
  let svc: string | undefined;
  let rid: string | undefined;
  let final = false;
  let timeoutMs = 3_600_000;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--svc') svc = argv[++i];
    else if (a === '--rid') rid = argv[++i];
    else if (a === '--final') final = true;
    else if (a === '--timeout') timeoutMs = Number(argv[++i]) * 1000;
    else if (a === '-l') i++; // rsync's user@: ignored (the peer's daemon runs the command)
    else break;
  }
  const peer = argv[i];
  const remote = argv.slice(i + 1);
  if (!svc || !rid || !peer || remote.length < 2 || !Number.isFinite(timeoutMs) || timeoutMs <= 0) return 'usage: ferry-rsync-transport --svc <svc> --rid <rid> [--final] <peer> rsync --server ...';
  return { svc, rid, final, timeoutMs, peer, remote };
}
