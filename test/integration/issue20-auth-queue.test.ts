// Issue 20, item 3: the queue of password checks is bounded (--auth-queue).
// With one password thread and room for two checks to wait, a burst of
// logins from many connections gets 530 for the checks that ran and, for the
// rest, 421 at once and a close (RFC 959 4.2: the transient reply PASS may
// get; 530 would say the password was wrong). Each 421 is counted.
import { afterAll, describe, expect, it } from 'vitest';
import { atPassword, writeUsersFile } from './helpers/accounts.js';
import { eventually, type FtpReply } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

const threads = 1;
const queue = 2;
const burst = 12;

const users = await writeUsersFile([{ name: 'carol', password: 'carol pw' }]);
const srv = useServer({
  users: users.path,
  authThreads: threads,
  authQueue: queue,
  loginFailDelay: 0,
  maxLoginFailuresPerIp: 0,
  metricsPort: 0,
});

afterAll(() => users.remove());

describe('the queue of password checks', () => {
  it('answers the checks beyond threads + queue with 421 and a close, and counts them', async () => {
    const conns = await Promise.all(Array.from({ length: burst }, () => atPassword(srv.host, srv.port, 'carol')));
    try {
      for (const c of conns) c.send('PASS wrong');
      const replies: FtpReply[] = await Promise.all(conns.map((c) => c.reply(60_000)));
      const refused = conns.filter((_, i) => replies[i]?.code === 421);
      const checked = replies.filter((r) => r.code === 530);
      // All but the checks that fit (and any that a free thread took meanwhile) are refused.
      expect(checked.length + refused.length).toBe(burst);
      expect(checked.length).toBeGreaterThanOrEqual(threads + queue);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      const refusals = new Set(replies.filter((r) => r.code === 421).map((r) => r.text));
      expect([...refusals]).toEqual(['Too many logins waiting for a password check; try again later. Closing control connection.']);
      await Promise.all(refused.map((c) => c.waitClosed()));
      expect((await srv.server.stats()).limits.authQueueFull).toBe(refused.length);
      // The connections that were checked go on: the right password still logs in.
      const first = conns[replies.findIndex((r) => r.code === 530)];
      await first?.expect('USER carol', 331);
      await first?.expect('PASS carol pw', 230, 60_000);
      expect(await eventually(async () => (await srv.server.stats()).passwordChecks.waiting === 0, 10_000)).toBe(true);
    } finally {
      for (const c of conns) c.destroy();
    }
  }, 120_000);
});
