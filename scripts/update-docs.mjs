// npm run docs: rewrites the generated blocks of docs/ (src/docs/generated.ts)
// from the built tables. Run it after changing a setting or a command row.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedBlocks, withGenerated } from '../dist/docs/generated.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (const page of new Set(generatedBlocks.map((b) => b.page))) {
  const file = path.join(root, page);
  const before = readFileSync(file, 'utf8');
  const after = withGenerated(page, before);
  if (after !== before) writeFileSync(file, after);
  console.log(`${page}: ${after === before ? 'up to date' : 'updated'}`);
}
