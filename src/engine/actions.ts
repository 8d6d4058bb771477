// Encodes the actions of one event-loop turn into one byte buffer for post()
// (the native codec, native/engine/wire.cc DecodeActions, reads it), so they
// cross in one N-API call with no object per action: the mirror of the event
// batches (batch.ts). Records back to back, each a fixed header
// (native/engine/protocol.h MUXFTPD_ACTION_FIELDS: the offsets come from the
// addon) and then data, preamble and epilogue.
//
// data: Reply → the text; ConnectActive → the host; SendFile, RecvFile,
// FileOp → the path relative to the session's directory; SendBuffer → the
// bytes. preamble: transfers → a reply the worker queues once the file is
// open (dropped on an open error); ListenPassive → the reply template the
// worker fills with the port; FileOp Rename → the new path.
// epilogue: transfers → a reply the worker queues when the transfer ends
// without error, right after closing the data connection (the 226);
// ListenPassive → the reply it queues instead when no listener opens (425).
import { utf8Write } from '../protocol/bytes.js';
import { wireField, wireHeader } from './native.js';

const kHeader = wireHeader('action');
const oType = wireField('action', 'type', 'u8');
const oMode = wireField('action', 'mode', 'u8');
const oOp = wireField('action', 'op', 'u8');
const oFlags = wireField('action', 'flags', 'u8');
const oSeq = wireField('action', 'seq', 'u32');
const oSid = wireField('action', 'sid', 'f64');
const oOffset = wireField('action', 'offset', 'f64');
const oPort = wireField('action', 'port', 'u32');
const oDataLength = wireField('action', 'dataLength', 'u32');
const oPreambleLength = wireField('action', 'preambleLength', 'u32');
const oEpilogueLength = wireField('action', 'epilogueLength', 'u32');
const kInitial = 16 * 1024;
/** Header bytes no field covers (padding): zeroed, the buffer is reused and the records must not carry old bytes. */
const kPadding = paddingOf();

function paddingOf(): number[] {
  const covered = new Set<number>();
  const fields: Array<[number, number]> = [[oType, 1], [oMode, 1], [oOp, 1], [oFlags, 1], [oSeq, 4], [oSid, 8], [oOffset, 8], [oPort, 4],
    [oDataLength, 4], [oPreambleLength, 4], [oEpilogueLength, 4]];
  for (const [at, size] of fields) for (let i = 0; i < size; i++) covered.add(at + i);
  const pads: number[] = [];
  for (let i = 0; i < kHeader; i++) if (!covered.has(i)) pads.push(i);
  return pads;
}

const kShrinkAbove = 1024 * 1024;

function check(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`action ${name} ${v} is not an integer in 0..${max}`);
}

export interface ActionFields {
  seq?: number;
  offset?: number;
  port?: number;
  mode?: number;
  /** FileOp: what it does (FileOp values). */
  op?: number;
  /** ActionFlag bits (SplitReply). */
  flags?: number;
  data?: string | Buffer;
  preamble?: string;
  epilogue?: string;
}

/**
 * Every field, in one order: callers spread it and set theirs
 * (`{ ...blankFields, seq, data }`), so that add() reads one hidden class
 * whatever the action, where each kind of literal was another.
 */
export const blankFields: Readonly<ActionFields> = {
  seq: 0,
  offset: 0,
  port: 0,
  mode: 0,
  op: 0,
  flags: 0,
  data: undefined,
  preamble: undefined,
  epilogue: undefined,
};

export class ActionWriter {
  private buf: Buffer = Buffer.allocUnsafe(kInitial);
  /** The header's numbers go through a DataView: its setters compile inline, Buffer's writeUInt32LE and kin are calls. */
  private view: DataView = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private at = 0;

  get empty(): boolean {
    return this.at === 0;
  }

  /** Throws a RangeError for a number the native side would refuse (nothing is written then). */
  add(type: number, sid: number, f: Readonly<ActionFields> = blankFields): void {
    const { data, preamble, epilogue } = f;
    const seq = f.seq ?? 0;
    const offset = f.offset ?? 0;
    const port = f.port ?? 0;
    const mode = f.mode ?? 0;
    const op = f.op ?? 0;
    const flags = f.flags ?? 0;
    check('sid', sid, Number.MAX_SAFE_INTEGER);
    check('offset', offset, Number.MAX_SAFE_INTEGER);
    check('seq', seq, 0xffffffff);
    check('port', port, 0xffff);
    check('mode', mode, 0xff);
    check('op', op, 0xff);
    check('flags', flags, 0xff);
    check('type', type, 0xff);
    // A string's UTF-8 (3 bytes per UTF-16 unit at most) fits a u32 length;
    // a Buffer may not (4 GiB and more from Node 22 on): its length would wrap,
    // and the rest of its bytes would be read as the next records.
    if (data !== undefined && typeof data !== 'string') check('data length', data.length, 0xffffffff);
    // Room for the worst case (3 UTF-8 bytes per UTF-16 unit) before writing.
    const dataMax = data === undefined ? 0 : typeof data === 'string' ? data.length * 3 : data.length;
    this.reserve(kHeader + dataMax + ((preamble?.length ?? 0) + (epilogue?.length ?? 0)) * 3);
    const b = this.buf;
    const at = this.at;
    let end = at + kHeader;
    let dataLen = 0;
    if (typeof data === 'string') dataLen = utf8Write(b, data, end);
    else if (data !== undefined) dataLen = data.copy(b, end);
    end += dataLen;
    const preambleLen = preamble === undefined ? 0 : utf8Write(b, preamble, end);
    end += preambleLen;
    const epilogueLen = epilogue === undefined ? 0 : utf8Write(b, epilogue, end);
    end += epilogueLen;
    const v = this.view;
    for (let i = 0; i < kPadding.length; i++) v.setUint8(at + (kPadding[i] as number), 0);
    v.setUint8(at + oType, type);
    v.setUint8(at + oMode, mode);
    v.setUint8(at + oOp, op);
    v.setUint8(at + oFlags, flags);
    v.setUint32(at + oSeq, seq, true);
    v.setFloat64(at + oSid, sid, true);
    v.setFloat64(at + oOffset, offset, true);
    v.setUint32(at + oPort, port, true);
    v.setUint32(at + oDataLength, dataLen, true);
    v.setUint32(at + oPreambleLength, preambleLen, true);
    v.setUint32(at + oEpilogueLength, epilogueLen, true);
    this.at = end;
  }

  /**
   * The records written since the last take, as a view of the writer's own
   * buffer: valid until the next add (post() copies what it needs at once).
   */
  take(): Buffer {
    const out = this.buf.subarray(0, this.at);
    this.at = 0;
    // One huge listing must not pin a huge buffer: the view above keeps the old one alive until post() returns.
    if (this.buf.length > kShrinkAbove) this.use(Buffer.allocUnsafe(kInitial));
    return out;
  }

  private use(buf: Buffer): void {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.use(bigger);
  }
}
