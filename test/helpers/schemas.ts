// Validate a command's JSON output against its documented schema (docs/schemas/), with ajv.
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { repoRoot } from './env.js';

const ajv = new Ajv({ allErrors: true, strict: true });

export const schemaDir = path.join(repoRoot, 'docs', 'schemas');

/** Errors of `data` against docs/schemas/<name>.schema.json, as one string ('' when valid). */
export function schemaErrors(name: string, data: unknown): string {
  const file = path.join(schemaDir, `${name}.schema.json`);
  const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as { $id: string };
  const validate = ajv.getSchema(schema.$id) ?? ajv.compile(schema);
  return validate(data) ? '' : ajv.errorsText(validate.errors, { separator: '\n' });
}
