// Fuzzing, time-bounded (undici's habit): random and mutated command streams
// go to the parser, then to a live server split at arbitrary byte
// boundaries. Every line must get exactly one well-formed reply, the
// connection must stay usable, and a well-behaved client downloading
// alongside must never notice.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLine } from '../../src/protocol/decode.js';
import { parseLine } from '../../src/protocol/parser.js';
import { FtpControl, retrieve } from '../integration/helpers/clients.js';
import { useServer } from '../integration/helpers/server.js';

const srv = useServer();
const runMs = 15_000;

/** Verbs whose every line gets exactly one reply without a data connection (no PASV/PORT, no QUIT). */
const verbs = [
  'USER', 'PASS', 'SYST', 'FEAT', 'OPTS', 'HELP', 'NOOP', 'TYPE', 'MODE', 'STRU', 'PWD', 'XPWD', 'CWD',
  'CDUP', 'RETR', 'REST', 'ABOR', 'LIST', 'NLST', 'STAT', 'SIZE', 'MDTM', 'MLST', 'MLSD', 'DELE', 'MKD',
  'RMD', 'RNFR', 'RNTO', 'STOR', 'SITE', 'ALLO', 'XYZZY',
];

const args = fc.oneof(
  fc.constant(''),
  fc.constantFrom('/', '..', '/hello.txt', '/sub/dir', '../../etc/passwd', 'I', 'A N', 'S', 'UTF8 ON', '-la', '99999999999'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

const noLf = (b: Uint8Array) => Buffer.from(b.filter((x) => x !== 0x0a));

/** One line without its LF: a command, a mutated command, or bytes. */
const line = fc.oneof(
  fc.tuple(fc.constantFrom(...verbs), args, fc.boolean()).map(([v, a, lower]) => {
    const text = a === '' ? v : `${v} ${a}`;
    return Buffer.from((lower ? text.toLowerCase() : text).replaceAll('\n', ''));
  }),
  fc.tuple(fc.constantFrom(...verbs), fc.uint8Array({ maxLength: 30 })).map(([v, junk]) => noLf(Buffer.concat([Buffer.from(v), junk]))),
  fc.uint8Array({ maxLength: 60 }).map(noLf),
  fc.constantFrom(Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from('\r'), Buffer.from('\0'), Buffer.from([0xff, 0xfa])),
);

const stream = fc.record({
  login: fc.boolean(),
  lines: fc.array(line, { minLength: 1, maxLength: 30 }),
  crlf: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 20 }),
});

describe('parser fuzz', () => {
  it('decodeLine and parseLine never throw; a parse is a verb and an argument, or a 5xx refusal', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = decodeLine(Buffer.from(bytes));
        if (text === undefined) return;
        const parsed = parseLine(text);
        if (parsed.ok) {
          expect(parsed.verb).not.toBe('');
          expect(parsed.verb).not.toContain(' ');
          expect(parsed.verb).toBe(parsed.verb.toUpperCase());
        } else {
          expect(parsed.reply.code).toBeGreaterThanOrEqual(500);
        }
      }),
      { numRuns: 20_000, interruptAfterTimeLimit: 5_000 },
    );
  });
});

describe('live server fuzz', () => {
  let bystanderRuns = 0;
  const bystanderFailures: string[] = [];
  let stop = false;
  let bystander: Promise<void> = Promise.resolve();
  const download = async () => {
    while (!stop) {
      const ctl = await FtpControl.login(srv.host, srv.port).catch((e: unknown) => {
        bystanderFailures.push(String(e));
        return undefined;
      });
      if (ctl === undefined) return;
      try {
        const got = await retrieve(ctl, 'EPSV', srv.files.mib1.path);
        if (got.sha256 !== srv.files.mib1.sha256) bystanderFailures.push(`download ${bystanderRuns} wrong`);
        bystanderRuns += 1;
      } catch (e) {
        bystanderFailures.push(String(e));
      } finally {
        ctl.destroy();
      }
    }
  };

  beforeAll(() => {
    bystander = download();
  });

  afterAll(async () => {
    stop = true;
    await bystander;
  });

  it('every line gets one well-formed reply, split anywhere; a bystander keeps downloading', { timeout: runMs + 30_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(stream, async ({ login, lines, crlf, cuts }) => {
        const ctl = login ? await FtpControl.login(srv.host, srv.port) : await FtpControl.connect(srv.host, srv.port);
        try {
          const bytes = Buffer.concat(lines.map((l) => Buffer.concat([l, Buffer.from(crlf ? '\r\n' : '\n')])));
          const at = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
          let from = 0;
          for (const to of [...at, bytes.length]) {
            if (to <= from) continue;
            ctl.write(bytes.subarray(from, to));
            from = to;
            await new Promise((resolve) => setImmediate(resolve));
          }
          for (let i = 0; i < lines.length; i++) {
            const r = await ctl.reply(5_000);
            expect(r.code).toBeGreaterThanOrEqual(100);
            expect(r.code).toBeLessThan(600);
            // A 421 closes the connection (e.g. the failed-login cap): nothing more is owed.
            if (r.code === 421) return;
          }
          expect((await ctl.cmd('NOOP', 5_000)).code).toBe(200);
          expect(ctl.pendingLines).toBe(0);
        } finally {
          ctl.destroy();
        }
      }),
      { numRuns: 100_000, interruptAfterTimeLimit: runMs },
    );
    expect(bystanderFailures).toEqual([]);
    expect(bystanderRuns).toBeGreaterThan(0);
  });
});
