// Decodes the packed event batches of native/binding/engine_wrap.cc
// (PackBatch). One buffer per worker loop iteration; records back to back:
//
//   0 u8 type | 1 u8 flag | 2 u16 second text length | 4 u32 text length
//   8 f64 sid | 16 u32 seq | 20 i32 error | 24 u32 port | 28 u32 local port
//   32 f64 bytes | 40 text | second text
//
// flag: Line → 1 when the line was too long; Closed → the CloseReason.
// text: Line → the line bytes; Open → the peer address (second text: local).

const kHeader = 40;

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
    const secondLen = batch.readUInt16LE(at + 2);
    const textLen = batch.readUInt32LE(at + 4);
    e.type = batch[at] ?? 0;
    e.flag = batch[at + 1] ?? 0;
    e.sid = batch.readDoubleLE(at + 8);
    e.seq = batch.readUInt32LE(at + 16);
    e.error = batch.readInt32LE(at + 20);
    e.port = batch.readUInt32LE(at + 24);
    e.localPort = batch.readUInt32LE(at + 28);
    e.bytes = batch.readDoubleLE(at + 32);
    const textAt = at + kHeader;
    e.text = textLen === 0 ? none : batch.subarray(textAt, textAt + textLen);
    e.second = secondLen === 0 ? none : batch.subarray(textAt + textLen, textAt + textLen + secondLen);
    visit(e);
    at = textAt + textLen + secondLen;
  }
}
