// The threads that check passwords: a few node:worker_threads of their own,
// each running scryptSync, one check at a time. crypto.scrypt would run on
// libuv's thread pool, the queue every file-system call of every logged-in
// session waits in: a few dozen clients sending wrong passwords would then
// hold up everyone's SIZE and CWD (issue 20). Here a flood of logins waits
// only for these threads, in a queue with a bound; the check that finds the
// queue full is refused at once.
//
// Threads start on the first check (a server without passwords never starts
// one) and stay until close(), which stops them.
import { Worker } from 'node:worker_threads';
import { type PasswordHash, scryptParams, type ScryptParams } from './password.js';

/**
 * The worker's code, run with `eval`: the same text works from dist/ and from
 * the TypeScript sources under vitest (a worker file would be a .ts there,
 * which node 20 cannot run, and a .js beside it would not exist). It stays
 * this small so that nothing in it needs a type checker; password-pool tests
 * check its answers against crypto.scryptSync.
 */
const workerSource = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { scryptSync, timingSafeEqual } = require('node:crypto');
parentPort.on('message', (job) => {
  let answer;
  try {
    const key = scryptSync(job.password, job.salt, job.key.length, job.params);
    answer = { match: timingSafeEqual(key, job.key) };
  } catch (e) {
    answer = { error: e instanceof Error ? e.message : String(e) };
  }
  parentPort.postMessage(answer);
});
`;

/** What the main thread posts to a worker. */
interface WorkerJob {
  password: string;
  salt: Uint8Array;
  key: Uint8Array;
  params: ScryptParams;
}

/** What a worker posts back. */
type WorkerAnswer = { match: boolean } | { error: string };

/**
 * 'match' / 'mismatch': the password was checked. 'busy': the queue was full,
 * nothing was checked. 'skipped': `wanted` said no when a thread came free.
 * 'stopped': the pool closed first.
 */
export type CheckResult = 'match' | 'mismatch' | 'busy' | 'skipped' | 'stopped';

export interface PoolStats {
  /** Checks on a thread now. */
  running: number;
  /** Checks waiting for a thread. */
  waiting: number;
}

interface Job {
  readonly payload: WorkerJob;
  /** Asked when a thread comes free: false drops the job unchecked (its client left, or its address is now refused). */
  readonly wanted: () => boolean;
  readonly settle: (r: CheckResult) => void;
  readonly fail: (e: Error) => void;
}

export class PasswordPool {
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Job>();
  private readonly waiting: Job[] = [];
  private started = 0;
  private stopped = false;

  constructor(
    private readonly threads: number,
    private readonly maxWaiting: number,
  ) {}

  /**
   * Checks `password` against `hash` on a pool thread. Rejects only when the
   * check itself failed (scrypt refused the hash's parameters, a thread died).
   */
  check(password: string, hash: PasswordHash, wanted: () => boolean = () => true): Promise<CheckResult> {
    if (this.stopped) return Promise.resolve('stopped');
    // The queue is empty whenever a thread is free or may start (pump() sees to it).
    const threadFree = this.idle.length > 0 || this.started < this.threads;
    if (!threadFree && this.waiting.length >= this.maxWaiting) return Promise.resolve('busy');
    return new Promise((settle, fail) => {
      const params = scryptParams(hash);
      this.waiting.push({ payload: { password, salt: hash.salt, key: hash.key, params }, wanted, settle, fail });
      this.pump();
    });
  }

  stats(): PoolStats {
    return { running: this.running.size, waiting: this.waiting.length };
  }

  /** Stops every thread; checks waiting or running resolve to 'stopped'. */
  async close(): Promise<void> {
    this.stopped = true;
    for (const job of this.waiting.splice(0)) job.settle('stopped');
    const workers = [...this.idle.splice(0), ...this.running.keys()];
    for (const job of this.running.values()) job.settle('stopped');
    this.running.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  /** Hands waiting jobs to free threads, starting threads up to the limit. */
  private pump(): void {
    while (!this.stopped && this.waiting.length > 0) {
      const worker = this.idle.pop() ?? this.startWorker();
      if (worker === undefined) return;
      const job = this.waiting.shift();
      if (job === undefined) {
        this.idle.push(worker);
        return;
      }
      if (!job.wanted()) {
        this.idle.push(worker);
        job.settle('skipped');
        continue;
      }
      this.running.set(worker, job);
      worker.postMessage(job.payload);
    }
  }

  /** A new thread, or undefined at the limit or when none can start. */
  private startWorker(): Worker | undefined {
    if (this.started >= this.threads) return undefined;
    let worker: Worker;
    try {
      worker = new Worker(workerSource, { eval: true, name: 'muxftpd-auth' });
    } catch (e) {
      // With no thread running, nothing would ever take the waiting checks: they fail now.
      const error = e instanceof Error ? e : new Error(String(e));
      if (this.started === 0) for (const job of this.waiting.splice(0)) job.fail(error);
      return undefined;
    }
    this.started += 1;
    // The pool never keeps the process alive; close() ends the threads.
    worker.unref();
    worker.on('message', (answer: WorkerAnswer) => this.answered(worker, answer));
    worker.on('error', (e) => this.lost(worker, e));
    worker.on('exit', (code) => this.lost(worker, new Error(`password thread exited (code ${code})`)));
    return worker;
  }

  private answered(worker: Worker, answer: WorkerAnswer): void {
    const job = this.running.get(worker);
    if (job === undefined) return;
    this.running.delete(worker);
    this.idle.push(worker);
    if ('error' in answer) job.fail(new Error(`password check failed: ${answer.error}`));
    else job.settle(answer.match ? 'match' : 'mismatch');
    this.pump();
  }

  /** A thread died ('error' then 'exit', or 'exit' alone): its check fails, a new thread may start. */
  private lost(worker: Worker, e: Error): void {
    if (this.stopped) return;
    const job = this.running.get(worker);
    const wasIdle = this.idle.indexOf(worker);
    if (job === undefined && wasIdle < 0) return;
    this.running.delete(worker);
    if (wasIdle >= 0) this.idle.splice(wasIdle, 1);
    this.started -= 1;
    job?.fail(e);
    void worker.terminate();
    this.pump();
  }
}
