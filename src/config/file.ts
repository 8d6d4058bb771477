// --config FILE: a JSON object whose keys are setting names (as startServer()
// takes them) and whose values are typed or in their flag string form.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { ConfigSources } from './load.js';

export async function readConfigFile(file: string): Promise<NonNullable<ConfigSources['file']>> {
  const full = path.resolve(file);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (e) {
    const why = e instanceof Error && 'code' in e ? String(e.code) : String(e);
    throw new ConfigError('MUXFTPD_ERR_BAD_CONFIG_FILE', `cannot read --config ${JSON.stringify(file)}: ${why}`);
  }
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ConfigError('MUXFTPD_ERR_BAD_CONFIG_FILE', `--config ${JSON.stringify(file)} is not JSON: ${why}`);
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ConfigError('MUXFTPD_ERR_BAD_CONFIG_FILE', `--config ${JSON.stringify(file)} must hold a JSON object`);
  }
  return { path: full, values: values as Record<string, unknown> };
}
