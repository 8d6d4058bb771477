// The README's custom-command example, run as it stands there: the code block
// of its "Custom commands" section is written to a module inside the package
// (so that `import … from 'muxftpd'` resolves to this package) and given to
// the server as --commands takes it, a module specifier.
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DataChannel, FtpControl } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Custom commands'));
const example = /```js\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
const dir = path.join(repo, 'test', '.tmp-custom-commands');
const module = path.join(dir, 'my-commands.mjs');
await mkdir(dir, { recursive: true });
await writeFile(module, example);

const srv = useServer({ commands: module });

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the README's custom commands", () => {
  it('is there to run', () => {
    expect(example).toContain('export default');
  });

  it('adds SITE, replaces SYST, and XENV sends over a data connection', async () => {
    const ctl = await FtpControl.connect(srv.host, srv.port);
    try {
      expect((await ctl.cmd('SYST')).lines).toEqual(['215 UNIX Type: L8 (custom)']);
      await ctl.expect('USER anonymous', 331);
      await ctl.expect('PASS x', 230);
      expect((await ctl.cmd('SITE WHO')).lines).toEqual(['200 You are anonymous.']);
      expect((await ctl.cmd('SITE HELP')).code).toBe(504);
      expect((await ctl.cmd('XENV')).code).toBe(425);
      const channel = await DataChannel.open(ctl, 'EPSV', { keep: true });
      expect((await ctl.cmd('XENV')).code).toBe(150);
      expect((await ctl.reply()).code).toBe(226);
      expect((await channel.result()).data?.toString()).toBe(`threads=${srv.server.config.threads}\r\n`);
      const help = await ctl.cmd('HELP SITE');
      expect(help.lines).toEqual(['214 SITE WHO (who am I)']);
    } finally {
      ctl.destroy();
    }
  });
});
