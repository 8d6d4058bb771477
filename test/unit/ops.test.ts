// The parts of issue 7 that need no server: the xferlog line and its reopen, the status line's text, the
// config file layer and --print-config.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/config/file.js';
import { configText } from '../../src/config/help.js';
import { loadConfigWithOrigins, parseFlags } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { statusText } from '../../src/ops/status-line.js';
import { TransferLog, type XferRecord, xferlogLine } from '../../src/ops/xferlog.js';
import type { ServerStats } from '../../src/server.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-ops-unit-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const record: XferRecord = {
  end: new Date(2004, 2, 4, 8, 12, 30),
  seconds: 1.4,
  host: '10.0.0.7',
  bytes: 37,
  path: '/pub/a file.html',
  binary: true,
  direction: 'o',
  anonymous: true,
  user: 'anonymous',
  complete: true,
};

describe('xferlogLine', () => {
  it('writes the wu-ftpd / vsftpd fields, spaces in names as _', () => {
    expect(xferlogLine(record)).toBe('Thu Mar  4 08:12:30 2004 1 10.0.0.7 37 /pub/a_file.html b _ o a anonymous ftp 0 * c');
  });
});

describe('TransferLog', () => {
  it('reopen() starts a new file under the name; lines written before stay in the moved one', async () => {
    const file = path.join(dir, 'xfer.log');
    const errors: Error[] = [];
    const log = new TransferLog(file, (e) => errors.push(e));
    log.write(record);
    // The stream opens the file asynchronously: logrotate moves it once it is there.
    for (let i = 0; i < 200 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 10));
    await rename(file, `${file}.1`);
    log.write({ ...record, bytes: 38 });
    log.reopen();
    log.write({ ...record, bytes: 39 });
    await log.close();
    const moved = (await readFile(`${file}.1`, 'utf8')).trim().split('\n');
    const fresh = (await readFile(file, 'utf8')).trim().split('\n');
    expect(moved.map((l) => l.split(/ +/)[7])).toEqual(['37', '38']);
    expect(fresh.map((l) => l.split(/ +/)[7])).toEqual(['39']);
    expect(errors).toEqual([]);
  });
});

describe('statusText', () => {
  const zero = { ok: 0, aborted: 0, peerClosed: 0, noConnection: 0, timeout: 0, tlsFailed: 0, tlsNotResumed: 0, error: 0 };
  const limits = { maxClients: 0, maxPerIp: 0, loginTimeout: 0, idleTimeout: 0, dataTimeout: 0, loginFailures: 0, loginFailuresPerIp: 0, authQueueFull: 0, outputOverflow: 0, closeTimeout: 0, bounce: 0 };
  const tls = { controlHandshakes: 0, controlSwitched: 0, controlFailures: 0, implicitFailures: 0, dataHandshakes: 0, dataFailures: 0, dataNotResumed: 0, ktlsTransfers: 0 };
  const base: ServerStats = {
    sessions: 3, perWorker: [1, 2], loops: [], accepted: 3, passiveControlPeer: 0, rejected: 0, rejectedPerIp: 0, fdLimit: 1024, tls, sessionsTotal: 3, loopFailures: 0, commands: {},
    bytesOut: 0, bytesIn: 0, transfers: zero, transfersRunning: 1, limits, passwordChecks: { running: 0, waiting: 0 },
    dataAddresses: { activeAsSeen: 0, activeNotRewritten: 0, activeRewrittenElsewhere: 0, passiveControlPeer: 0, passiveForeignRefused: 0 },
    passiveLate: 0,
  };
  it('shows clients per worker, transfers, MB/s and errors', () => {
    const now = { ...base, bytesOut: 2e6, transfers: { ...zero, ok: 4, timeout: 1 }, limits: { ...limits, maxPerIp: 2 } };
    expect(statusText(now, base, 2)).toBe('clients 3 [1 2] · transfers 1 (4 done) · out 1.0 MB/s · in 0.0 MB/s · errors 1 · limits hit 2');
  });
});

describe('config layers', () => {
  it('defaults < options < file < env < flags, each value with its source', async () => {
    const file = path.join(dir, 'c.json');
    await writeFile(file, JSON.stringify({ port: 1, maxPerIp: 2, idleTimeout: 3, allowForeignData: true }));
    const { config, origins } = await loadConfigWithOrigins({
      options: { port: 9, loginTimeout: 8, maxPerIp: 9 },
      file: await readConfigFile(file),
      env: { MUXFTPD_PORT: '10', MUXFTPD_MAX_PER_IP: '11' },
      flags: parseFlags(['--port', '12', '--allow-foreign-data=false']).flags,
    });
    expect(config).toMatchObject({ port: 12, maxPerIp: 11, idleTimeout: 3, loginTimeout: 8, allowForeignData: false, dataTimeout: 300 });
    expect(origins).toMatchObject({
      port: 'flag',
      maxPerIp: 'env MUXFTPD_MAX_PER_IP',
      idleTimeout: 'file',
      loginTimeout: 'option',
      allowForeignData: 'flag',
      dataTimeout: 'default',
    });
    expect(configText(config, origins)).toMatch(/^--idle-timeout\s+3\s+file$/m);
  });

  it('a bare boolean flag is true', () => {
    expect(parseFlags(['--allow-foreign-data']).flags.allowForeignData).toBe('true');
  });

  it('refuses unknown keys, non-objects and unreadable files with MUXFTPD_ERR_BAD_CONFIG_FILE', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ nope: 1 }));
    await expect(loadConfigWithOrigins({ file: await readConfigFile(file) })).rejects.toMatchObject({ code: 'MUXFTPD_ERR_BAD_CONFIG_FILE' });
    await writeFile(file, '[1]');
    await expect(readConfigFile(file)).rejects.toBeInstanceOf(ConfigError);
    await expect(readConfigFile(path.join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'MUXFTPD_ERR_BAD_CONFIG_FILE' });
  });

  it('a bad value in the file names the flag and the file', async () => {
    const file = path.join(dir, 'v.json');
    await writeFile(file, JSON.stringify({ maxRate: 'fast' }));
    const e = await loadConfigWithOrigins({ file: await readConfigFile(file) }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect(String(e)).toContain('--max-rate');
    expect(String(e)).toContain(file);
  });
});
