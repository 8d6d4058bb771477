// The parts of docs/ that are made from a table, not written: the settings
// page's --help text (the settings table) and the commands page's list of
// verbs (the command table). `npm run docs` writes them between their
// markers; test/unit/docs.test.ts fails when a page and its table disagree.
import { commands } from '../commands/table.js';
import { helpText } from '../config/help.js';

export interface GeneratedBlock {
  /** The page, relative to the package root. */
  page: string;
  /** The marker name: the block sits between <!-- generated:NAME --> and <!-- /generated:NAME -->. */
  name: string;
  text(): string;
}

const fence = '```';

export const generatedBlocks: readonly GeneratedBlock[] = [
  { page: 'docs/settings.md', name: 'help', text: () => `${fence}\n${helpText().trimEnd()}\n${fence}` },
  {
    page: 'docs/commands.md',
    name: 'verbs',
    text: () => {
      const rows = Object.entries(commands)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([verb, spec]) => `| \`${verb}\` | ${spec.auth ? 'yes' : 'no'} | ${markdownCell(spec.help)} |`);
      return ['| verb | login | help |', '|---|---|---|', ...rows].join('\n');
    },
  },
];

/** Table-cell text: '<SP>' must not read as an HTML tag, '|' must not end the cell. */
function markdownCell(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('|', '\\|');
}

/** `page` with each of its blocks replaced by what its table says now. */
export function withGenerated(page: string, content: string): string {
  let out = content;
  for (const block of generatedBlocks.filter((b) => b.page === page)) {
    const begin = `<!-- generated:${block.name} -->`;
    const end = `<!-- /generated:${block.name} -->`;
    const at = out.indexOf(begin);
    const until = out.indexOf(end);
    if (at < 0 || until < at) throw new Error(`${page} has no ${begin} … ${end} block`);
    out = `${out.slice(0, at + begin.length)}\n${block.text()}\n${out.slice(until)}`;
  }
  return out;
}
