// The peers' config files (bench/peers/config/) are real files with names in
// double braces, {{PORT}}, filled in at launch: a config reads as the server's
// own format, and a name left without a value is an error, not a silent gap.

import { readFileSync } from 'node:fs';
import path from 'node:path';

/** bench/peers/config/ of the package. */
export function configDir(packageRoot: string): string {
  return path.join(packageRoot, 'bench/peers/config');
}

/** The text of a file in bench/peers/config/ as it is. */
export function readConfig(packageRoot: string, file: string): string {
  return readFileSync(path.join(configDir(packageRoot), file), 'utf8');
}

/** `text` with each {{NAME}} replaced by values[NAME]; throws naming the first NAME without one. */
export function fillIn(text: string, values: Readonly<Record<string, string>>, file = 'template'): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`${file}: no value for {{${name}}}`);
    return v;
  });
}
