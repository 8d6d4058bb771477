// Decodes the packed event batches of the native codec (native/engine/wire.cc,
// EncodeEvents). One buffer per worker loop iteration; records back to back,
// each a fixed header (native/engine/protocol.h MUXFTPD_EVENT_FIELDS: the
// offsets come from the addon) and then its text and second text.
//
// flag: Line → 1 when the line was too long; Closed → the CloseReason;
// DataConnected → 1 when an active connection has just come up; Open → 1 when
// the session came in on the implicit-TLS listener; DataRefused → 1 when the
// connection was late, not foreign; TransferDone → 1 when the file opened and
// no TransferStarted came (it would have been in the same batch).
// text: Line → the line bytes; Open, DataConnected, DataRefused → the peer
// address (second text: the local address).
import { wireField, wireHeader } from './native.js';

const kHeader = wireHeader('event');
const oType = wireField('event', 'type', 'u8');
const oFlag = wireField('event', 'flag', 'u8');
const oSecondLength = wireField('event', 'secondLength', 'u16');
const oTextLength = wireField('event', 'textLength', 'u32');
const oSid = wireField('event', 'sid', 'f64');
const oSeq = wireField('event', 'seq', 'u32');
const oError = wireField('event', 'error', 'i32');
const oPort = wireField('event', 'port', 'u32');
const oLocalPort = wireField('event', 'localPort', 'u32');
const oBytes = wireField('event', 'bytes', 'f64');

/** One event, as a reused view: valid only during the visit call. */
export interface RawEvent {
  type: number;
  flag: number;
  sid: number;
  seq: number;
  error: number;
  port: number;
  localPort: number;
  bytes: number;
  /** Line bytes (a view into the batch) or the peer address bytes. */
  text: Buffer;
  /** Open, DataConnected, DataRefused: the local address. */
  second: Buffer;
}

/** The text of an event that has none: most events carry only numbers, and a view per event is garbage to collect. */
const none = Buffer.alloc(0);

/** A DataView over `batch`. */
export function viewOf(batch: Buffer): DataView {
  return new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
}

/**
 * Calls `visit` for each event of the first `end` bytes of `batch`, with one
 * reused view. The numbers are read through a DataView (`v`, over `batch`:
 * the engine keeps one for its reused batch buffer): V8 compiles its getters
 * inline, where Buffer's readUInt32LE and kin are calls with their own
 * checks, nine of them per event.
 */
export function forEachEvent(
  batch: Buffer,
  visit: (e: RawEvent) => void,
  end: number = batch.byteLength,
  v: DataView = viewOf(batch),
): void {
  const e: RawEvent = {
    type: 0, flag: 0, sid: 0, seq: 0, error: 0, port: 0, localPort: 0, bytes: 0,
    text: none, second: none,
  };
  let at = 0;
  while (at + kHeader <= end) {
    const secondLen = v.getUint16(at + oSecondLength, true);
    const textLen = v.getUint32(at + oTextLength, true);
    e.type = v.getUint8(at + oType);
    e.flag = v.getUint8(at + oFlag);
    e.sid = v.getFloat64(at + oSid, true);
    e.seq = v.getUint32(at + oSeq, true);
    e.error = v.getInt32(at + oError, true);
    e.port = v.getUint32(at + oPort, true);
    e.localPort = v.getUint32(at + oLocalPort, true);
    e.bytes = v.getFloat64(at + oBytes, true);
    const textAt = at + kHeader;
    e.text = textLen === 0 ? none : batch.subarray(textAt, textAt + textLen);
    e.second = secondLen === 0 ? none : batch.subarray(textAt + textLen, textAt + textLen + secondLen);
    visit(e);
    at = textAt + textLen + secondLen;
  }
}
