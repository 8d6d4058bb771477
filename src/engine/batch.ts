// Decodes the packed event batches of the native codec (native/engine/wire.cc,
// EncodeEvents). One buffer per worker loop iteration; records back to back,
// each a fixed header (native/engine/protocol.h MUXFTPD_EVENT_FIELDS: the
// offsets come from the addon) and then its text and second text.
//
// flag: Line → 1 when the line was too long; Closed → the CloseReason.
// text: Line → the line bytes; Open → the peer address (second text: local).
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
  /** Open: the local address. */
  second: Buffer;
}

/** The text of an event that has none: most events carry only numbers, and a view per event is garbage to collect. */
const none = Buffer.alloc(0);

export function forEachEvent(batch: Buffer, visit: (e: RawEvent) => void): void {
  const e: RawEvent = {
    type: 0, flag: 0, sid: 0, seq: 0, error: 0, port: 0, localPort: 0, bytes: 0,
    text: none, second: none,
  };
  let at = 0;
  while (at + kHeader <= batch.length) {
    const secondLen = batch.readUInt16LE(at + oSecondLength);
    const textLen = batch.readUInt32LE(at + oTextLength);
    e.type = batch.readUInt8(at + oType);
    e.flag = batch.readUInt8(at + oFlag);
    e.sid = batch.readDoubleLE(at + oSid);
    e.seq = batch.readUInt32LE(at + oSeq);
    e.error = batch.readInt32LE(at + oError);
    e.port = batch.readUInt32LE(at + oPort);
    e.localPort = batch.readUInt32LE(at + oLocalPort);
    e.bytes = batch.readDoubleLE(at + oBytes);
    const textAt = at + kHeader;
    e.text = textLen === 0 ? none : batch.subarray(textAt, textAt + textLen);
    e.second = secondLen === 0 ? none : batch.subarray(textAt + textLen, textAt + textLen + secondLen);
    visit(e);
    at = textAt + textLen + secondLen;
  }
}
