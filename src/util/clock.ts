// Wall-clock times in operator messages: UTC hh:mm:ss. An absolute time keeps a message the
// same from one evaluation to the next (messages are logged when they change).
export function utcClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
