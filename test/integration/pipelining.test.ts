// Pipelined commands meet backpressure, not a close: a client that writes
// many commands whose handlers wait on the file system (SIZE, CWD, MDTM) in
// one go gets every one answered, in order; past a high-water mark of
// waiting lines the engine stops reading that session's socket until the
// queue drains, and other clients are served meanwhile.
import { describe, expect, it } from 'vitest';
import type { FtpControl, FtpReply } from './helpers/clients.js';
import { expectServes, useLogins, useServer } from './helpers/server.js';

const srv = useServer();
const login = useLogins(srv);

/** A command and the reply it must get, as `normalized` writes it. */
interface Step {
  line: string;
  want: string;
}

/**
 * `count` commands cycling through path commands that hit and miss, with
 * relative paths that are right only if every CWD before them ran first.
 */
function pipeline(count: number): Step[] {
  const { hello, mib1, nested } = srv.files;
  const cycle: Step[] = [
    { line: `SIZE ${hello.path}`, want: `213 ${hello.size}` },
    { line: 'CWD /sub', want: '250' },
    { line: `MDTM ${hello.path}`, want: '213 <time>' },
    { line: 'NOOP', want: '200' },
    { line: `SIZE ${mib1.path}`, want: `213 ${mib1.size}` },
    { line: 'CWD dir', want: '250' },
    { line: 'SIZE nested.txt', want: `213 ${nested.size}` },
    { line: 'SIZE /no-such-file', want: '550' },
    { line: 'CWD /no-such-dir', want: '550' },
    { line: 'MDTM nested.txt', want: '213 <time>' },
    { line: 'CWD /', want: '250' },
  ];
  return Array.from({ length: count }, (_, i) => cycle[i % cycle.length] as Step);
}

/** A reply as a Step's `want`: the code, and for 213 its value (a time as <time>). */
function normalized(r: FtpReply): string {
  if (r.code !== 213) return String(r.code);
  return /^\d{14}$/.test(r.text) ? '213 <time>' : `213 ${r.text}`;
}

function wire(steps: readonly Step[]): string {
  return steps.map((s) => s.line + '\r\n').join('');
}

async function replies(ctl: FtpControl, count: number): Promise<string[]> {
  const got: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await ctl.reply();
    got.push(normalized(r));
    // A close (the 421) ends the run: the rest would only time out.
    if (r.code === 421) break;
  }
  return got;
}

describe('pipelined commands', () => {
  it('200 path commands in one write are all answered, in order, and the session goes on', async () => {
    const ctl = await login();
    const steps = pipeline(200);
    ctl.write(wire(steps));
    expect(await replies(ctl, steps.length)).toEqual(steps.map((s) => s.want));
    // Drained: the session reads again.
    expect((await ctl.cmd('PWD')).code).toBe(257);
  });

  it('commands written while the session is paused wait in its socket and are answered after it resumes', async () => {
    const ctl = await login();
    const first = pipeline(200);
    ctl.write(wire(first));
    // The first answer is posted after the pause the 200 lines caused (the
    // actions of a session reach its worker in order): what follows arrives
    // at a socket the engine is not reading.
    const got = await replies(ctl, 1);
    const more = pipeline(100);
    ctl.write(wire(more));
    got.push(...(await replies(ctl, first.length - 1 + more.length)));
    expect(got).toEqual([...first, ...more].map((s) => s.want));
  });

  it('another client is served while a pipelining client waits', async () => {
    const ctl = await login();
    const steps = pipeline(200);
    ctl.write(wire(steps));
    await expectServes(srv);
    expect(await replies(ctl, steps.length)).toEqual(steps.map((s) => s.want));
  });
});
