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
// without error, right after closing the data connection (the 226).
import { wireField, wireHeader } from './native.js';

const kHeader = wireHeader('action');
const oType = wireField('action', 'type', 'u8');
const oMode = wireField('action', 'mode', 'u8');
const oOp = wireField('action', 'op', 'u8');
const oSeq = wireField('action', 'seq', 'u32');
const oSid = wireField('action', 'sid', 'f64');
const oOffset = wireField('action', 'offset', 'f64');
const oPort = wireField('action', 'port', 'u32');
const oDataLength = wireField('action', 'dataLength', 'u32');
const oPreambleLength = wireField('action', 'preambleLength', 'u32');
const oEpilogueLength = wireField('action', 'epilogueLength', 'u32');
const kInitial = 16 * 1024;
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
  data?: string | Buffer;
  preamble?: string;
  epilogue?: string;
}

export class ActionWriter {
  private buf = Buffer.allocUnsafe(kInitial);
  private at = 0;

  get empty(): boolean {
    return this.at === 0;
  }

  /** Throws a RangeError for a number the native side would refuse (nothing is written then). */
  add(type: number, sid: number, f: ActionFields = {}): void {
    const { data, preamble, epilogue } = f;
    check('sid', sid, Number.MAX_SAFE_INTEGER);
    check('offset', f.offset ?? 0, Number.MAX_SAFE_INTEGER);
    check('seq', f.seq ?? 0, 0xffffffff);
    check('port', f.port ?? 0, 0xffff);
    check('mode', f.mode ?? 0, 0xff);
    check('op', f.op ?? 0, 0xff);
    check('type', type, 0xff);
    // Room for the worst case (3 UTF-8 bytes per UTF-16 unit) before writing.
    const dataMax = data === undefined ? 0 : typeof data === 'string' ? data.length * 3 : data.length;
    this.reserve(kHeader + dataMax + ((preamble?.length ?? 0) + (epilogue?.length ?? 0)) * 3);
    const b = this.buf;
    const at = this.at;
    let end = at + kHeader;
    let dataLen = 0;
    if (typeof data === 'string') dataLen = b.write(data, end, 'utf8');
    else if (data !== undefined) dataLen = data.copy(b, end);
    end += dataLen;
    const preambleLen = preamble === undefined ? 0 : b.write(preamble, end, 'utf8');
    end += preambleLen;
    const epilogueLen = epilogue === undefined ? 0 : b.write(epilogue, end, 'utf8');
    end += epilogueLen;
    // The header's unused bytes are zeroed: the buffer is reused and the records must not carry old bytes.
    b.fill(0, at, at + kHeader);
    b.writeUInt8(type, at + oType);
    b.writeUInt8(f.mode ?? 0, at + oMode);
    b.writeUInt8(f.op ?? 0, at + oOp);
    b.writeUInt32LE(f.seq ?? 0, at + oSeq);
    b.writeDoubleLE(sid, at + oSid);
    b.writeDoubleLE(f.offset ?? 0, at + oOffset);
    b.writeUInt32LE(f.port ?? 0, at + oPort);
    b.writeUInt32LE(dataLen, at + oDataLength);
    b.writeUInt32LE(preambleLen, at + oPreambleLength);
    b.writeUInt32LE(epilogueLen, at + oEpilogueLength);
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
    if (this.buf.length > kShrinkAbove) this.buf = Buffer.allocUnsafe(kInitial);
    return out;
  }

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}
