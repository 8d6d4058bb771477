// One server process as the primary sees it: the forked child, its start,
// its requests and its end.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../config/package-root.js';
import { ConfigError, type ConfigErrorCode, StartError } from '../errors.js';
import type { ServerHandle } from '../handle.js';
import type { ServerStats } from '../server.js';
import type { StartMessage, ToChild, ToPrimary } from './messages.js';

/** The built entry of a server process (a test run from sources forks the build too). */
const childEntry = path.join(packageRoot, 'dist', 'cluster', 'child.js');

/** How long a stats request may take before that process is left out of the sum. */
const statsTimeoutMs = 5000;

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ServerProcess {
  readonly ended: Promise<Ended>;
  private readonly child: ChildProcess;
  private readonly statsWaiting = new Map<number, (s: ServerStats | undefined) => void>();
  private nextId = 0;
  private gone = false;

  constructor(
    readonly index: number,
    ledgerFd: number,
    onMessage: (from: ServerProcess, m: ToPrimary) => void,
  ) {
    if (!existsSync(childEntry)) throw new StartError(`${childEntry} is missing: --processes runs the built package (npm run build:ts)`);
    this.child = fork(childEntry, [], {
      serialization: 'advanced',
      stdio: ['inherit', 'inherit', 'inherit', 'ipc', ledgerFd],
      execArgv: ['--max-semi-space-size=4'],
    });
    this.ended = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.gone = true;
        for (const answer of this.statsWaiting.values()) answer(undefined);
        this.statsWaiting.clear();
        resolve({ code, signal });
      });
    });
    this.child.on('message', (m: ToPrimary) => {
      if (m.type === 'stats') {
        this.statsWaiting.get(m.id)?.(m.stats);
        this.statsWaiting.delete(m.id);
      } else {
        onMessage(this, m);
      }
    });
    // A channel that breaks is seen as the exit that follows it.
    this.child.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends the start message; resolves with where it listens, or rejects as startServer would. */
  start(message: StartMessage): Promise<ServerHandle['address']> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: ToPrimary) => {
        if (m.type === 'ready') resolve(m.address);
        else if (m.type === 'startFailed') reject(startFailure(m));
        else return;
        this.child.off('message', onMessage);
      };
      this.child.on('message', onMessage);
      void this.ended.then((e) => reject(new StartError(`server process ${this.index} ended before it served (${describe(e)})`)));
      this.send(message);
    });
  }

  send(message: ToChild): void {
    // One that has gone meanwhile says so by its exit.
    if (!this.gone && this.child.connected) this.child.send(message);
  }

  stats(): Promise<ServerStats | undefined> {
    if (this.gone) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.statsWaiting.delete(id);
        resolve(undefined);
      }, statsTimeoutMs);
      this.statsWaiting.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.send({ type: 'stats', id });
    });
  }

  /** Waits for its end up to `ms`, then kills it. */
  async endWithin(ms: number): Promise<Ended> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), ms);
    });
    const first = await Promise.race([this.ended, late]);
    clearTimeout(timer);
    if (first !== 'late') return first;
    this.child.kill('SIGKILL');
    return this.ended;
  }
}

function startFailure(m: Extract<ToPrimary, { type: 'startFailed' }>): Error {
  if (m.kind === 'config' && m.code !== undefined) {
    return new ConfigError(m.code as ConfigErrorCode, m.message.replace(` [${m.code}]`, ''));
  }
  return new StartError(m.message);
}

export function describe(e: Ended): string {
  return e.signal !== null ? `signal ${e.signal}` : `exit code ${e.code ?? '?'}`;
}
