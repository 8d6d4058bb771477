// The package's own directory (where package.json and FTP_FILES live), found
// from this file's place: src/config/ when run from source, dist/config/ when built.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function packageVersion(): Promise<string> {
  const text = await readFile(path.join(packageRoot, 'package.json'), 'utf8');
  const version: unknown = (JSON.parse(text) as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}
