// CPU per operation by thread class (bench/client/threads.ts, thread-cost.ts,
// thread-table.ts): the parsing against this test process's own /proc, the
// arithmetic on made-up samples.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ceiling, threadCost } from '../../bench/client/thread-cost.js';
import { formatThreadCost, markdownThreadCost } from '../../bench/client/thread-table.js';
import { classify, parseTaskStat, sampleTree, type TreeSample } from '../../bench/client/threads.js';

// utime 120 stime 30; comm with a space and a parenthesis, as comm may have.
const line = '4242 (V8 (x) Work) S 1 4242 4242 0 -1 4194560 100 0 0 0 120 30 0 0 20 0 7 0 1234 0 0';

describe('parseTaskStat', () => {
  it('takes comm between the first ( and the last ), and utime + stime', () => {
    expect(parseTaskStat(line)).toEqual({ comm: 'V8 (x) Work', ticks: 150 });
  });

  it('refuses a line without its fields', () => {
    expect(parseTaskStat('12 (x) S 1')).toBeNull();
    expect(parseTaskStat('garbage')).toBeNull();
  });
});

describe('classify', () => {
  it('names the main thread JS whatever its comm, and the engine threads by theirs', () => {
    expect(classify(10, 10, 'muxftpd')).toBe('js');
    expect(classify(10, 11, 'muxftpd-w0')).toBe('worker');
    expect(classify(10, 12, 'muxftpd-w15')).toBe('worker');
    expect(classify(10, 13, 'muxftpd-accept')).toBe('acceptor');
    expect(classify(10, 14, 'muxftpd-files')).toBe('files');
    expect(classify(10, 15, 'muxftpd-fileops')).toBe('files');
    expect(classify(10, 16, 'libuv-worker')).toBe('libuv');
    expect(classify(10, 17, 'node')).toBe('rest');
    expect(classify(10, 18, 'muxftpd-wx')).toBe('rest');
  });
});

describe('sampleTree on this process', () => {
  it('finds this process, its main thread, and a worker thread it starts by name', async () => {
    const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await new Promise((r) => w.once('online', r));
    try {
      const s = await sampleTree(process.pid);
      const me = s.processes.find((p) => p.pid === process.pid);
      expect(me).toBeDefined();
      expect(me?.threads.some((t) => t.tid === process.pid)).toBe(true);
      expect(me?.threads.length).toBeGreaterThan(2);
      const sum = me?.threads.reduce((a, t) => a + t.ticks, 0) ?? 0;
      // The process's own time covers its live threads' (and those gone).
      expect(me?.ticks).toBeGreaterThanOrEqual(sum);
    } finally {
      await w.terminate();
    }
  });
});

const t = (tid: number, comm: string, ticks: number) => ({ tid, comm, ticks });

describe('threadCost', () => {
  // hz 100: a tick is 10 ms = 10,000 µs; 1,000 ops → a tick is 10 µs per op.
  const a: TreeSample = {
    atMs: 0,
    processes: [{ pid: 10, ticks: 100, threads: [t(10, 'node', 50), t(11, 'muxftpd-w0', 20), t(12, 'muxftpd-w1', 10), t(13, 'muxftpd-accept', 5), t(14, 'node', 5)] }],
  };
  const b: TreeSample = {
    atMs: 2000,
    processes: [{
      pid: 10, ticks: 190,
      // 14 exited (its ticks stay in the process's 190), 15 started in the window.
      threads: [t(10, 'node', 70), t(11, 'muxftpd-w0', 50), t(12, 'muxftpd-w1', 30), t(13, 'muxftpd-accept', 8), t(15, 'muxftpd-fileops', 2)],
    }],
  };

  it('divides each class\'s ticks by the operations; the rest is the process less its named threads', () => {
    const c = threadCost(a, b, 1000, 100);
    expect(c).not.toBeNull();
    expect(c?.perOp).toEqual({ js: 200, worker: 500, acceptor: 30, files: 20, libuv: 0, rest: 150 });
    expect(c?.totalPerOp).toBe(900);
    expect(c?.workers).toEqual([{ name: 'muxftpd-w0', perOp: 300 }, { name: 'muxftpd-w1', perOp: 200 }]);
    expect(c?.jsPerProcess).toEqual([200]);
    expect(c?.jsPerWorker).toBe(0.4);
    expect(c?.seconds).toBe(2);
    expect(c?.processes).toBe(1);
  });

  it('sums classes over processes, and keeps each process\'s JS thread (a new process counts from zero)', () => {
    const child = { pid: 20, ticks: 60, threads: [t(20, 'node', 40), t(21, 'muxftpd-w0', 20)] };
    const c = threadCost(a, { ...b, processes: [...b.processes, child] }, 1000, 100);
    expect(c?.perOp.js).toBe(600);
    expect(c?.jsPerProcess).toEqual([200, 400]);
    expect(c?.jsMaxPerOp).toBe(400);
    expect(c?.workers.map((w) => w.name)).toEqual(['1:muxftpd-w0', '1:muxftpd-w1', '2:muxftpd-w0']);
    expect(c?.totalPerOp).toBe(1500);
  });

  it('has no figure without operations', () => {
    expect(threadCost(a, b, 0, 100)).toBeNull();
  });

  it('projects the ceiling: cores for the whole, one JS thread and one acceptor per process', () => {
    const c = threadCost(a, b, 1000, 100);
    if (!c) throw new Error('no cost');
    // whole 900 µs/op: 2 cores → 2,222/s; JS 200 µs/op: 5,000/s a process.
    expect(ceiling(c, 2, 1)).toEqual({ cores: 2, deciders: 1, opsPerSec: 2222, limitedBy: 'cores' });
    expect(ceiling(c, 16, 1)).toEqual({ cores: 16, deciders: 1, opsPerSec: 5000, limitedBy: 'js' });
    expect(ceiling(c, 16, 16)).toEqual({ cores: 16, deciders: 16, opsPerSec: 17778, limitedBy: 'cores' });
    expect(ceiling(c, 0, 1)).toBeNull();
  });

  it('formats the text and the markdown table', () => {
    const c = threadCost(a, b, 1000, 100);
    if (!c) throw new Error('no cost');
    const text = formatThreadCost(c);
    expect(text).toContain('JS main thread');
    expect(text).toContain('muxftpd-w1');
    expect(text).toContain('JS ÷ workers: 0.4');
    const md = markdownThreadCost('login-100', c, 500).join('\n');
    expect(md).toContain('| JS main thread | 200 | 0.10 |');
    expect(md).toContain('| 16 | 5000/s (js) | 17778/s (cores) |');
  });
});
