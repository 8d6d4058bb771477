// The docs pages made from a table say what the table says: --help in
// docs/settings.md, every verb in docs/commands.md (npm run docs rewrites them).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generatedBlocks, withGenerated } from '../../src/docs/generated.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('generated docs', () => {
  it.each([...new Set(generatedBlocks.map((b) => b.page))])('%s matches its table (else: npm run build:ts && npm run docs)', (page) => {
    const content = readFileSync(path.join(root, page), 'utf8');
    expect(content).toBe(withGenerated(page, content));
  });

  it('the README stays a three-minute read', () => {
    expect(readFileSync(path.join(root, 'README.md'), 'utf8').split('\n').length).toBeLessThan(200);
  });
});
