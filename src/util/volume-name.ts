// The rule of a volume name (docs/volume-plugin.md): one path component, bounded, a safe
// character set. Shared by the service file's `volumes` / `volume_mounts` keywords and the
// volume plugin's requests, so a name the file accepts is one the plugin accepts.

/** A volume name: one path component, a safe character set. */
export const VOLUME_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const VOLUME_NAME_MAX = 128;

/** Why `name` is refused as a volume name, or undefined when it is good. */
export function volumeNameProblem(name: string): string | undefined {
  const shown = JSON.stringify(name.slice(0, 80));
  if (name === '') return 'empty volume name';
  if (name.length > VOLUME_NAME_MAX) return `volume name ${shown}... longer than ${VOLUME_NAME_MAX} characters`;
  if (name.includes('/')) return `bad volume name ${shown}: it contains "/"`;
  if (name.includes('..')) return `bad volume name ${shown}: it contains ".."`;
  if (!VOLUME_NAME_RE.test(name)) return `bad volume name ${shown}: only A-Z a-z 0-9 _ . - are allowed, and it starts with a letter or a digit`;
  return undefined;
}
