// The boundary's byte buffers, checked across it: what the TypeScript
// ActionWriter writes, the native codec (native/engine/wire.cc) must decode
// field for field; what the native codec encodes, batch.ts must read back.
// Both sides take their offsets from protocol.h, so this fails when either
// side's reading of a field drifts.
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { engineConfig } from '../../src/config/engine-config.js';
import { defaultConfig } from '../../src/config/settings.js';
import { ActionWriter } from '../../src/engine/actions.js';
import { forEachEvent, type RawEvent } from '../../src/engine/batch.js';
import { ActionFlag, ActionType, CloseReason, DataProtection, EventType, loadBinding, wireField, WriteMode } from '../../src/engine/native.js';

const { codec } = loadBinding();

function decoded(w: ActionWriter) {
  const got = codec.decodeActions(w.take());
  if (got === null) throw new Error('the native codec refused the buffer');
  return got;
}

describe('actions: ActionWriter → native DecodeActions', () => {
  it('carries every field and all three texts, UTF-8 encoded', () => {
    const w = new ActionWriter();
    w.add(ActionType.Reply, 7, { data: '257 "/é ✓" created.\r\n' });
    w.add(ActionType.RecvFile, 2 ** 40 + 3, {
      seq: 0xffffffff, offset: 2 ** 33, mode: WriteMode.Exclusive, data: 'dir/ünï.bin',
      preamble: '150 Ok to send data.\r\n', epilogue: '226 Fertig ✓.\r\n',
    });
    w.add(ActionType.ConnectActive, 9, { data: '::1', port: 65535 });
    w.add(ActionType.Close, 11);
    w.add(ActionType.ListenPassive, 12, { seq: 5, flags: ActionFlag.SplitReply, preamble: '229 (|||%P|)\r\n' });
    w.add(ActionType.OpenData, 13, { seq: 6 });
    const got = decoded(w);
    expect(got.map((a) => a.type)).toEqual([
      ActionType.Reply, ActionType.RecvFile, ActionType.ConnectActive, ActionType.Close, ActionType.ListenPassive, ActionType.OpenData,
    ]);
    expect(got.map((a) => a.flags)).toEqual([0, 0, 0, 0, ActionFlag.SplitReply, 0]);
    expect(got[5]).toMatchObject({ sid: 13, seq: 6 });
    expect(got[0]?.data.toString('utf8')).toBe('257 "/é ✓" created.\r\n');
    expect(got[1]).toMatchObject({
      sid: 2 ** 40 + 3, seq: 0xffffffff, offset: 2 ** 33, mode: WriteMode.Exclusive,
      preamble: '150 Ok to send data.\r\n', epilogue: '226 Fertig ✓.\r\n',
    });
    expect(got[1]?.data.toString('utf8')).toBe('dir/ünï.bin');
    expect(got[2]).toMatchObject({ sid: 9, port: 65535, preamble: '', epilogue: '' });
    expect(got[3]).toMatchObject({ sid: 11, seq: 0, offset: 0, port: 0, preamble: '', epilogue: '' });
    expect(got[3]?.data.length).toBe(0);
  });

  it('carries PROT P in the mode byte of DataProtection', () => {
    const w = new ActionWriter();
    w.add(ActionType.DataProtection, 5, { mode: DataProtection.Private });
    w.add(ActionType.StartTls, 6);
    w.add(ActionType.ClearControl, 7);
    const got = decoded(w);
    expect(got.map((a) => [a.type, a.sid, a.mode])).toEqual([
      [ActionType.DataProtection, 5, DataProtection.Private], [ActionType.StartTls, 6, 0], [ActionType.ClearControl, 7, 0],
    ]);
  });

  it('grows past its first buffer and starts empty again after take', () => {
    const w = new ActionWriter();
    const big = Buffer.alloc(100_000, 0x61);
    for (let i = 0; i < 3; i++) w.add(ActionType.SendBuffer, i, { seq: i + 1, data: big });
    expect(decoded(w).map((a) => a.data.equals(big))).toEqual([true, true, true]);
    expect(w.empty).toBe(true);
    w.add(ActionType.Abort, 1);
    expect(decoded(w)).toHaveLength(1);
  });

  it('refuses numbers the native side would refuse, writing nothing', () => {
    const w = new ActionWriter();
    expect(() => w.add(ActionType.Reply, Number.NaN)).toThrow(RangeError);
    expect(() => w.add(ActionType.SendFile, 1, { offset: -1 })).toThrow(RangeError);
    expect(() => w.add(ActionType.SendFile, 1, { offset: 2 ** 53 })).toThrow(RangeError);
    expect(() => w.add(ActionType.ConnectActive, 1, { port: 70000 })).toThrow(RangeError);
    expect(() => w.add(ActionType.ListenPassive, 1.5)).toThrow(RangeError);
    expect(w.empty).toBe(true);
  });

  it('refuses data longer than its u32 length can say, writing nothing', () => {
    // A Buffer of 4 GiB or more (Node 22 and later make one, a custom
    // command's sendBuffer may pass it) would wrap its length: the record
    // would end early and its own bytes be read as the next records, any
    // session's. Its length is faked here: no test allocates 4 GiB.
    const w = new ActionWriter();
    const huge = Buffer.from('abc');
    Object.defineProperty(huge, 'length', { value: 2 ** 32 + 3 });
    expect(() => w.add(ActionType.SendBuffer, 1, { seq: 1, data: huge })).toThrow(/^action data length 4294967299 /);
    expect(w.empty).toBe(true);
    w.add(ActionType.SendBuffer, 2, { seq: 2, data: Buffer.from('abc') });
    expect(decoded(w).map((a) => [a.sid, a.data.toString()])).toEqual([[2, 'abc']]);
  });
});

describe('events: native EncodeEvents → batch.ts', () => {
  it('reads back every field of every event type', () => {
    const sent = [
      { type: EventType.Open, sid: 2 ** 52 + 1, port: 40000, localPort: 2121, text: '127.0.0.1', local: '::1' },
      { type: EventType.Line, sid: 3, text: Buffer.from('STOR ünï\0x') },
      { type: EventType.Line, sid: 3, tooLong: true },
      { type: EventType.TransferDone, sid: 4, seq: 0xfffffffe, error: -104, bytes: 5_000_000_000 },
      { type: EventType.Closed, sid: 5, reason: CloseReason.CloseTimeout },
      { type: EventType.DataConnected, sid: 6, seq: 9, fresh: true, port: 50123, localPort: 20, text: '127.0.0.2', local: '127.0.0.1' },
      { type: EventType.DataRefused, sid: 7, port: 40001, localPort: 50000, text: '::1', local: '::1' },
      { type: EventType.DataRefused, sid: 0, late: true, port: 40002, localPort: 50001, text: '10.0.0.1', local: '10.0.0.2' },
      { type: EventType.Open, sid: 8, implicitTls: true, text: '::1', local: '::1' },
      { type: EventType.TlsReady, sid: 8, text: 'TLSv1.3 TLS_AES_256_GCM_SHA384' },
    ];
    const seen: Omit<RawEvent, 'text' | 'second'>[] = [];
    const texts: string[] = [];
    forEachEvent(codec.encodeEvents(sent), (e) => {
      const { text, second, ...numbers } = e;
      seen.push({ ...numbers });
      texts.push(`${text.toString('utf8')}|${second.toString('latin1')}`);
    });
    expect(seen).toEqual([
      { type: EventType.Open, flag: 0, sid: 2 ** 52 + 1, seq: 0, error: 0, port: 40000, localPort: 2121, bytes: 0 },
      { type: EventType.Line, flag: 0, sid: 3, seq: 0, error: 0, port: 0, localPort: 0, bytes: 0 },
      { type: EventType.Line, flag: 1, sid: 3, seq: 0, error: 0, port: 0, localPort: 0, bytes: 0 },
      { type: EventType.TransferDone, flag: 0, sid: 4, seq: 0xfffffffe, error: -104, port: 0, localPort: 0, bytes: 5_000_000_000 },
      { type: EventType.Closed, flag: CloseReason.CloseTimeout, sid: 5, seq: 0, error: 0, port: 0, localPort: 0, bytes: 0 },
      { type: EventType.DataConnected, flag: 1, sid: 6, seq: 9, error: 0, port: 50123, localPort: 20, bytes: 0 },
      { type: EventType.DataRefused, flag: 0, sid: 7, seq: 0, error: 0, port: 40001, localPort: 50000, bytes: 0 },
      { type: EventType.DataRefused, flag: 1, sid: 0, seq: 0, error: 0, port: 40002, localPort: 50001, bytes: 0 },
      { type: EventType.Open, flag: 1, sid: 8, seq: 0, error: 0, port: 0, localPort: 0, bytes: 0 },
      { type: EventType.TlsReady, flag: 0, sid: 8, seq: 0, error: 0, port: 0, localPort: 0, bytes: 0 },
    ]);
    expect(texts).toEqual(['127.0.0.1|::1', 'STOR ünï\0x|', '|', '|', '|', '127.0.0.2|127.0.0.1', '::1|::1', '10.0.0.1|10.0.0.2', '::1|::1', 'TLSv1.3 TLS_AES_256_GCM_SHA384|']);
  });
});

// post() must refuse, whole, a buffer whose lengths do not add up, before it posts anything.
describe('the engine refuses a malformed action buffer', () => {
  const engine = loadBinding().createEngine({ ...engineConfig(defaultConfig()), host: '127.0.0.1', port: 0, root: tmpdir(), threads: 1 }, () => {});
  afterAll(() => engine.stop());
  const lengths = ['dataLength', 'preambleLength', 'epilogueLength'].map((f) => wireField('action', f, 'u32'));
  const [, preambleAt = 0, epilogueAt = 0] = lengths;

  /** One SendFile record for session 1, changed by `patch`. */
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
    ['an epilogue length past the end', (b: Buffer) => b.writeUInt32LE(b.readUInt32LE(epilogueAt) + 1, epilogueAt)],
    ['a preamble length past the end', (b: Buffer) => b.writeUInt32LE(0xffffffff, preambleAt)],
    ['all three lengths at their maximum', (b: Buffer) => lengths.forEach((at) => b.writeUInt32LE(0xffffffff, at))],
    ['an unknown action type', (b: Buffer) => b.writeUInt8(200, wireField('action', 'type', 'u8'))],
  ])('refuses %s with a TypeError', (_what, patch) => {
    expect(() => engine.post(record(patch))).toThrow(TypeError);
  });
});
