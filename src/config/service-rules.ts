// Rules across the keywords of the [DEFAULT] section, checked by validation (each reported at
// its keyword's line). Pure: typed values in, problems out.
import type { KeywordValues } from '../vocab/keywords.js';

export interface DefaultsProblem {
  keyword: string;
  message: string;
}

export function defaultsProblems(d: KeywordValues): DefaultsProblem[] {
  const out: DefaultsProblem[] = [];
  const volumes = d.list('volumes');
  if (volumes.length > 0 && (d.string('volumes_dir') ?? '') === '') {
    out.push({ keyword: 'volumes', message: `volumes ${volumes.join(' ')} declared without volumes_dir: the directory they live in is required` });
  }
  return out;
}
