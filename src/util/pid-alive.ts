// Is a process of this pid running? Signal 0 checks without touching it; EPERM means it
// exists but belongs to another user.
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
