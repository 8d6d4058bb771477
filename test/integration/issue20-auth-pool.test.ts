// Issue 20, item 3: password checks run on a pool of their own. A flood of
// failed logins keeps every password thread busy and a queue of checks
// waiting, yet a logged-in client's file commands (SIZE, CWD, LIST) are
// answered at once: the client's last reply arrives while logins are still
// queued. Before the change scrypt ran on libuv's thread pool, the queue every
// file-system call waits in, and the client was answered only after the flood.
import { afterAll, describe, expect, it } from 'vitest';
import { atPassword, writeUsersFile } from './helpers/accounts.js';
import { DataChannel, eventually, FtpControl, type FtpReply } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

/** Connections sending wrong passwords, and the PASS each sends in turn. */
const flooders = 32;
const rounds = 3;
/** Rounds of SIZE, CWD, LIST, CWD of the logged-in client. */
const clientRounds = 3;

const users = await writeUsersFile([{ name: 'carol', password: 'carol pw' }]);
// No delay and no failed-login caps: the flood is as dense as the password threads allow.
const srv = useServer({ users: users.path, loginFailDelay: 0, maxLoginFailures: 0, maxLoginFailuresPerIp: 0 });

afterAll(() => users.remove());

describe('password checks have their own pool', () => {
  it("answers a logged-in client's SIZE, CWD and LIST before the queued failed logins", async () => {
    const client = await FtpControl.login(srv.host, srv.port);
    const flood = await Promise.all(Array.from({ length: flooders }, () => atPassword(srv.host, srv.port, 'carol')));
    try {
      let passReplies = 0;
      const wrongPasswords = async (ctl: FtpControl): Promise<FtpReply[]> => {
        const replies: FtpReply[] = [];
        for (let i = 0; i < rounds; i++) {
          if (i > 0) await ctl.expect('USER carol', 331);
          replies.push(await ctl.cmd('PASS wrong', 120_000));
          passReplies += 1;
        }
        return replies;
      };
      const passCount = async () => (await srv.server.stats()).commands.PASS ?? 0;
      const before = await passCount();
      const answered = Promise.all(flood.map(wrongPasswords));
      // Every connection's first PASS has reached its handler: the checks are running or queued.
      expect(await eventually(async () => (await passCount()) - before >= flooders, 20_000)).toBe(true);

      // Each round asks the file system several times (SIZE: path and size; CWD: path and kind; LIST: directory and entries).
      const seen: string[] = [];
      for (let round = 1; round <= clientRounds; round++) {
        expect((await client.cmd('SIZE /hello.txt', 60_000)).code).toBe(213);
        await client.expect('CWD /sub', 250, 60_000);
        const channel = await DataChannel.open(client, 'EPSV', { keep: true, timeoutMs: 60_000 });
        expect((await client.cmd('LIST', 60_000)).code).toBe(150);
        expect((await client.reply(60_000)).code).toBe(226);
        expect((await channel.result(60_000)).data?.toString()).toMatch(/ dir\r\n/);
        await client.expect('CWD /', 250, 60_000);
        seen.push(`round ${round}: ${passReplies}`);
      }
      const passRepliesAtEnd = passReplies;

      const codes = (await answered).flat().map((r) => r.code);
      expect(codes).toEqual(Array<number>(flooders * rounds).fill(530));
      // The ordering: when the client's last reply arrived, a whole round of
      // failed logins (one per flooding connection) was still unanswered, more
      // than any pool has threads: they were waiting in the queue, not running.
      expect(passRepliesAtEnd, `PASS replies received by the end of each round of file commands: ${seen.join(', ')}`).toBeLessThanOrEqual(
        flooders * (rounds - 1),
      );
    } finally {
      client.destroy();
      for (const c of flood) c.destroy();
    }
  }, 180_000);
});
