// The action buffer's layout, read back field by field as the native
// ParseActions reads it (native/binding/engine_wrap.cc).
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { ActionWriter } from '../../src/engine/actions.js';
import { ActionType, CopyMode, loadBinding } from '../../src/engine/native.js';

interface Decoded {
  type: number;
  mode: number;
  seq: number;
  sid: number;
  offset: number;
  port: number;
  data: Buffer;
  preamble: string;
  epilogue: string;
}

function decode(b: Buffer): Decoded[] {
  const out: Decoded[] = [];
  let at = 0;
  while (at < b.length) {
    const dataLen = b.readUInt32LE(at + 28);
    const preambleLen = b.readUInt32LE(at + 32);
    const epilogueLen = b.readUInt32LE(at + 36);
    const body = at + 40;
    out.push({
      type: b[at] ?? -1,
      mode: b[at + 1] ?? -1,
      seq: b.readUInt32LE(at + 4),
      sid: b.readDoubleLE(at + 8),
      offset: b.readDoubleLE(at + 16),
      port: b.readUInt32LE(at + 24),
      data: b.subarray(body, body + dataLen),
      preamble: b.subarray(body + dataLen, body + dataLen + preambleLen).toString('utf8'),
      epilogue: b.subarray(body + dataLen + preambleLen, body + dataLen + preambleLen + epilogueLen).toString('utf8'),
    });
    at = body + dataLen + preambleLen + epilogueLen;
  }
  expect(at).toBe(b.length);
  return out;
}

describe('ActionWriter', () => {
  it('packs every field and all three texts, UTF-8 encoded', () => {
    const w = new ActionWriter();
    w.add(1, 7, { data: '257 "/é ✓" created.\r\n' });
    w.add(6, 2 ** 40 + 3, { seq: 0xffffffff, offset: 2 ** 33, mode: 2, data: 'dir/ünï.bin', preamble: '150 Ok to send data.\r\n', epilogue: '226 Fertig ✓.\r\n' });
    w.add(3, 9, { data: '::1', port: 65535 });
    w.add(8, 11);
    const got = decode(w.take());
    expect(got.map((a) => a.type)).toEqual([1, 6, 3, 8]);
    expect(got[0]?.data.toString('utf8')).toBe('257 "/é ✓" created.\r\n');
    expect(got[1]).toMatchObject({ sid: 2 ** 40 + 3, seq: 0xffffffff, offset: 2 ** 33, mode: 2, preamble: '150 Ok to send data.\r\n', epilogue: '226 Fertig ✓.\r\n' });
    expect(got[1]?.data.toString('utf8')).toBe('dir/ünï.bin');
    expect(got[2]).toMatchObject({ sid: 9, port: 65535, preamble: '', epilogue: '' });
    expect(got[3]).toMatchObject({ sid: 11, data: Buffer.alloc(0), preamble: '', epilogue: '' });
  });

  it('refuses numbers the native side would refuse, writing nothing', () => {
    const w = new ActionWriter();
    expect(() => w.add(1, Number.NaN)).toThrow(RangeError);
    expect(() => w.add(4, 1, { offset: -1 })).toThrow(RangeError);
    expect(() => w.add(4, 1, { offset: 2 ** 53 })).toThrow(RangeError);
    expect(() => w.add(3, 1, { port: 70000 })).toThrow(RangeError);
    expect(() => w.add(2, 1.5)).toThrow(RangeError);
    expect(w.empty).toBe(true);
  });

  it('grows past its first buffer and starts empty again after take', () => {
    const w = new ActionWriter();
    const big = Buffer.alloc(100_000, 0x61);
    for (let i = 0; i < 3; i++) w.add(5, i, { seq: i + 1, data: big });
    const got = decode(w.take());
    expect(got.map((a) => a.data.equals(big))).toEqual([true, true, true]);
    expect(w.empty).toBe(true);
    w.add(7, 1);
    expect(decode(w.take())).toHaveLength(1);
  });
});

// The native decoder (engine_wrap.cc ParseActions) must refuse, whole, a
// buffer whose lengths do not add up, before it posts anything.
describe('the native action decoder', () => {
  const engine = loadBinding().createEngine(
    {
      host: '127.0.0.1', port: 0, root: tmpdir(), threads: 1, clientsPerThread: 16, maxClients: 16,
      blockSize: 65536, pasvMin: 0, pasvMax: 0, copyMode: CopyMode.Sendfile, maxLine: 512,
      maxOutput: 65536, busyReply: '421 Busy.\r\n',
    },
    () => {},
  );
  afterAll(() => engine.stop());

  /** One SendFile record for session 1, with its three text lengths changed by `patch`. */
  function record(patch: (b: Buffer) => void): Buffer {
    const w = new ActionWriter();
    w.add(ActionType.SendFile, 1, { seq: 1, data: 'a.bin', preamble: '150 Ok.\r\n', epilogue: '226 Done.\r\n' });
    const b = Buffer.from(w.take());
    patch(b);
    return b;
  }

  it('takes a well-formed buffer', () => {
    expect(() => engine.post(record(() => {}))).not.toThrow();
  });

  it.each([
    ['an epilogue length past the end', (b: Buffer) => b.writeUInt32LE(b.readUInt32LE(36) + 1, 36)],
    ['a preamble length past the end', (b: Buffer) => b.writeUInt32LE(0xffffffff, 32)],
    ['all three lengths at their maximum', (b: Buffer) => [28, 32, 36].forEach((at) => b.writeUInt32LE(0xffffffff, at))],
    ['an unknown action type', (b: Buffer) => b.writeUInt8(200, 0)],
  ])('refuses %s with a TypeError', (_what, patch) => {
    expect(() => engine.post(record(patch))).toThrow(TypeError);
  });
});
