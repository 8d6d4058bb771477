// The wire codec (native/engine/wire.h) opened to JavaScript for one purpose:
// test/unit/wire.test.ts encodes with the TypeScript side, decodes with the
// C++ side (and the other way round), and fails when the two disagree.
#ifndef MUXFTPD_BINDING_CODEC_PROBE_H_
#define MUXFTPD_BINDING_CODEC_PROBE_H_

#include <napi.h>

namespace muxftpd {

// { decodeActions(buffer) → action objects, encodeEvents(event objects) → buffer }
Napi::Object CodecProbe(Napi::Env env);

}  // namespace muxftpd

#endif  // MUXFTPD_BINDING_CODEC_PROBE_H_
