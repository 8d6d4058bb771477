// The real server for integration tests: one per test file, in-process, on a
// loopback address and port 0, serving a temp root of files with known
// content. After the file's tests, the server is closed and the process's
// open fds and threads must be back to what they were before it started
// (pyftpdlib's conftest.py check).
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type ServerHandle, type StartOptions, startServer } from '../../../src/index.js';
import { createLogger, type Logger, type LogLevel, logLevels } from '../../../src/log.js';
import { ensureBuilt } from './cli.js';
import { DataChannel, type DataMode, eventually, FtpControl, killChildren, retrieve, run, sha256 } from './clients.js';

export type { StartOptions };
export type RunningServer = ServerHandle;

export interface FixtureFile {
  /** Virtual path, as clients ask for it ('/1mib.bin'). */
  path: string;
  size: number;
  sha256: string;
  data: Buffer;
}

export interface Fixture {
  /** The temp directory holding the root and a file outside it. */
  dir: string;
  /** The served root. */
  root: string;
  files: {
    hello: FixtureFile;
    empty: FixtureFile;
    mib1: FixtureFile;
    mib5: FixtureFile;
    nested: FixtureFile;
    spaced: FixtureFile;
  };
  /** A 64 MiB sparse file of zeros: big enough that a paused reader stops its transfer half-way. */
  big: { path: string; size: number };
  /** Content of dir/secret.txt, outside the root; root/escape.txt and root/escape-dir lead there by symlink. */
  secret: string;
  remove(): Promise<void>;
}

function fileOf(virtual: string, data: Buffer): FixtureFile {
  return { path: virtual, size: data.length, sha256: sha256(data), data };
}

/**
 * A temp root:
 *   hello.txt, empty.bin, 1mib.bin (random), 5mib.bin (random), with space.txt,
 *   sub/dir/nested.txt, big-zeros.bin (64 MiB, sparse),
 *   escape.txt → ../secret.txt and escape-dir → .. (symlinks out of the root).
 */
export async function makeFixture(): Promise<Fixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-it-'));
  const root = path.join(dir, 'root');
  await mkdir(path.join(root, 'sub', 'dir'), { recursive: true });
  const files = {
    hello: fileOf('/hello.txt', Buffer.from('hello from muxftpd\r\nsecond line\n')),
    empty: fileOf('/empty.bin', Buffer.alloc(0)),
    mib1: fileOf('/1mib.bin', randomBytes(1024 * 1024)),
    mib5: fileOf('/5mib.bin', randomBytes(5 * 1024 * 1024)),
    nested: fileOf('/sub/dir/nested.txt', Buffer.from('nested file\n')),
    spaced: fileOf('/with space.txt', Buffer.from('a name with a space\n')),
  };
  for (const f of Object.values(files)) await writeFile(path.join(root, f.path), f.data);
  const big = { path: '/big-zeros.bin', size: 64 * 1024 * 1024 };
  await writeFile(path.join(root, big.path), '');
  await truncate(path.join(root, big.path), big.size);
  const secret = 'outside the root\n';
  await writeFile(path.join(dir, 'secret.txt'), secret);
  await symlink('../secret.txt', path.join(root, 'escape.txt'));
  await symlink('..', path.join(root, 'escape-dir'));
  return { dir, root, files, big, secret, remove: () => rm(dir, { recursive: true, force: true }) };
}

// ───────────────────────────── resource baseline ─────────────────────────────

export interface ResourceCounts {
  fds: number;
  threads: number;
  /** fd → what it points at ('socket:[123]', a path), for the failure message. */
  fdTargets: Map<string, string>;
  /** Thread names (comm), for the failure message. */
  threadNames: string[];
}

function readlinkOr(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '?';
  }
}

function threadName(tid: string): string {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * A sanitizer's runtime (test:asan, test:tsan preload it) opens its own shared
 * library the first time it symbolizes a stack (e.g. to match a suppression) and
 * keeps it open to exit: that fd is neither the server's nor the test's.
 */
const SANITIZER_RUNTIME = /\/lib(?:asan|tsan|ubsan)\.so[.\d]*$/;

/** Open fds and threads of this process (the test file's fork). */
export function resourceCounts(): ResourceCounts {
  const targets = readdirSync('/proc/self/fd').map((fd) => [fd, readlinkOr(`/proc/self/fd/${fd}`)] as const);
  const ours = targets.filter(([, t]) => !SANITIZER_RUNTIME.test(t));
  const tasks = readdirSync('/proc/self/task');
  return {
    fds: ours.length,
    threads: tasks.length,
    // The directory fd readdirSync itself used is closed by now: readlink fails and it is left out.
    fdTargets: new Map(ours.filter(([, t]) => t !== '?')),
    threadNames: tasks.map(threadName),
  };
}

/** What `now` has that `base` has not, e.g. ['17 → socket:[4711]']. */
function newFds(base: ResourceCounts, now: ResourceCounts): string[] {
  return [...now.fdTargets].filter(([fd, t]) => base.fdTargets.get(fd) !== t).map(([fd, t]) => `${fd} → ${t}`);
}

/**
 * Node creates some fds and threads once, on first use, and keeps them: the
 * libuv thread pool (first fs call), the signal pipe and child watcher (first
 * spawn). Use them once before the baseline so that they are in it.
 */
export async function warmUp(): Promise<void> {
  await run(process.execPath, ['-e', ''], { timeoutMs: 10_000 });
  await mkdtemp(path.join(os.tmpdir(), 'muxftpd-warm-')).then((d) => rm(d, { recursive: true }));
}

/** Waits (bounded) for the counts to come back to the baseline, then asserts they did. */
export async function expectBaseline(base: ResourceCounts, timeoutMs = 5_000): Promise<void> {
  await eventually(() => {
    const now = resourceCounts();
    return now.fds <= base.fds && now.threads <= base.threads;
  }, timeoutMs);
  const now = resourceCounts();
  expect(now.fds, `open fds after the server closed vs. before it started; new: ${newFds(base, now).join(', ')}`).toBe(
    base.fds,
  );
  expect(
    now.threads,
    `threads after the server closed vs. before it started: [${now.threadNames.join(', ')}] vs. [${base.threadNames.join(', ')}]`,
  ).toBe(base.threads);
}

// ───────────────────────────── the server of a test file ─────────────────────────────

export interface TestServer {
  readonly host: string;
  readonly port: number;
  readonly root: string;
  readonly fixture: Fixture;
  readonly files: Fixture['files'];
  readonly server: RunningServer;
  /** ftp://host:port/<path> (IPv6 hosts bracketed). */
  url(virtualPath: string): string;
}

/**
 * The server processes of every test server: MUXFTPD_PROCESSES, as the CLI
 * reads it, so that the suite runs under --processes 2 with the variable set
 * (CI does both). A test that looks inside this process (its threads, an
 * object command table) asks for `inProcess`.
 */
export const testProcesses = Number(process.env.MUXFTPD_PROCESSES ?? '1');

/** For the tests that need the server in this process, whatever MUXFTPD_PROCESSES says. */
export const inProcess = { processes: 1 } as const;

/**
 * Defaults of every test server: two workers, and only the log lines that
 * say something is wrong with the server (a client's doing, such as a reset
 * connection, is a debug line).
 */
export const testDefaults = { threads: 2, logLevel: 'warn', processes: testProcesses } as const;

/**
 * A test server's log: its lines through console.warn rather than straight
 * to fd 2, so vitest shows each under the test that was running when it came.
 */
export function testLog(level: LogLevel = testDefaults.logLevel): Logger {
  return createLogger(level, (line) => console.warn(line));
}

const levelOf = (asked: StartOptions['logLevel']): LogLevel => logLevels.find((l) => l === asked) ?? testDefaults.logLevel;

/**
 * Registers beforeAll/afterAll that start the file's server on `host`:0 (or
 * `extra.bind`:0, with clients still using `host`) and,
 * at the end, close it, kill stray child processes, remove the temp root and
 * check the fd and thread baseline. The returned object is usable inside
 * tests and hooks that run after beforeAll.
 */
export function useServer(
  options: StartOptions = {},
  host = '127.0.0.1',
  extra: {
    /** The address the server binds, when not `host` (e.g. '::' while clients use 127.0.0.1). */
    bind?: string;
    /** Runs right after close(), before the baseline check. */
    afterClose?: () => Promise<void>;
  } = {},
): TestServer {
  let state: { fixture: Fixture; server: RunningServer; base: ResourceCounts } | undefined;
  const need = () => {
    if (state === undefined) throw new Error('the test server is not running (beforeAll failed?)');
    return state;
  };
  beforeAll(async () => {
    // The server processes of --processes run the build (dist/cluster/child.js).
    if (Number(options.processes ?? testProcesses) > 1) await ensureBuilt();
    const fixture = await makeFixture();
    await warmUp();
    const base = resourceCounts();
    let server: RunningServer;
    try {
      const log = testLog(levelOf(options.logLevel));
      server = await startServer({ ...testDefaults, log, host: extra.bind ?? host, port: 0, root: fixture.root, ...options });
    } catch (e) {
      await fixture.remove();
      throw e;
    }
    state = { fixture, server, base };
  }, 60_000);
  afterAll(async () => {
    killChildren();
    if (state === undefined) return;
    const { fixture, server, base } = state;
    state = undefined;
    await server.close();
    await fixture.remove();
    await extra.afterClose?.();
    await expectBaseline(base);
  }, 60_000);
  return {
    get host() {
      return host;
    },
    get port() {
      return need().server.address.port;
    },
    get root() {
      return need().fixture.root;
    },
    get fixture() {
      return need().fixture;
    },
    get files() {
      return need().fixture.files;
    },
    get server() {
      return need().server;
    },
    url(virtualPath: string) {
      const h = host.includes(':') ? `[${host}]` : host;
      const p = virtualPath.split('/').map(encodeURIComponent).join('/');
      return `ftp://${h}:${need().server.address.port}${p}`;
    },
  };
}

/**
 * A login() for the file's tests: logs in to `srv` anonymously (TYPE I), and
 * an afterEach destroys every connection it opened, so a failed test leaves
 * none behind.
 */
export function useLogins(srv: TestServer): () => Promise<FtpControl> {
  const opened: FtpControl[] = [];
  afterEach(() => {
    for (const c of opened.splice(0)) c.destroy();
  });
  return async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    opened.push(ctl);
    return ctl;
  };
}

/**
 * The check that follows every bad-input case: a fresh client logs in and
 * downloads 1 MiB byte-identical, so whatever happened before touched no one else.
 */
export async function expectServes(srv: TestServer, mode: DataMode = 'EPSV'): Promise<void> {
  const ctl = await FtpControl.login(srv.host, srv.port);
  try {
    const got = await retrieve(ctl, mode, srv.files.mib1.path);
    expect(got.prelim.code, got.prelim.lines.join(' / ')).toBe(150);
    expect(got.final?.code).toBe(226);
    expect(got.bytes).toBe(srv.files.mib1.size);
    expect(got.sha256).toBe(srv.files.mib1.sha256);
    await ctl.expect('QUIT', 221);
    await ctl.waitClosed();
  } finally {
    ctl.destroy();
  }
}

/** Runs `f` on a fresh logged-in control connection, which is destroyed after it. */
export async function withLogin<T>(srv: TestServer, f: (ctl: FtpControl) => Promise<T>): Promise<T> {
  const ctl = await FtpControl.login(srv.host, srv.port);
  try {
    return await f(ctl);
  } finally {
    ctl.destroy();
  }
}

/** The exact bytes a listing command (`line`) sends over a fresh EPSV data connection; asserts its 150 and 226. */
export async function listingBytes(ctl: FtpControl, line: string): Promise<Buffer> {
  const channel = await DataChannel.open(ctl, 'EPSV', { keep: true });
  try {
    const prelim = await ctl.cmd(line);
    expect(prelim.code, prelim.lines.join(' / ')).toBe(150);
    expect((await ctl.reply()).code).toBe(226);
    return (await channel.result()).data ?? Buffer.alloc(0);
  } finally {
    channel.close();
  }
}
