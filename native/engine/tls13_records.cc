#include "tls13_records.h"

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sys.h"

namespace muxftpd {

namespace {

using tls13::kHeaderLength;
using tls13::kMaxCiphertext;
using tls13::kMaxInner;
using tls13::kMaxPlaintext;
using tls13::kTagLength;

// Content types (RFC 8446 5.1) and the alerts sent here (6.2).
constexpr uint8_t kAlert = 21;
constexpr uint8_t kHandshake = 22;
constexpr uint8_t kApplicationData = 23;
constexpr uint8_t kCloseNotify = 0;
constexpr uint8_t kUnexpectedMessage = 10;
constexpr uint8_t kBadRecordMac = 20;
constexpr uint8_t kRecordOverflow = 22;
constexpr uint8_t kIllegalParameter = 47;
constexpr uint8_t kDecodeError = 50;
constexpr uint8_t kProtocolVersion = 70;
constexpr uint8_t kInternalError = 80;
constexpr uint8_t kUserCanceled = 90;
constexpr uint8_t kKeyUpdateType = 24;  // HandshakeType key_update (4.6.3)

// Records handled per Read at most without handing out data (a client
// sending empty records or KeyUpdates in a loop): the loop is level-triggered,
// so the rest waits for the next turn, and others get theirs.
constexpr int kRecordsPerCall = 8;

}  // namespace

void Tls13Records::SetSecret(bool write, const uint8_t* secret, size_t len) {
  if (started_ || len > tls13::kMaxSecret) {
    spoiled_ = true;
    return;
  }
  tls13::Direction& d = write ? write_ : read_;
  std::memcpy(d.secret, secret, len);
  d.seq = 0;
  (write ? write_secret_len_ : read_secret_len_) = static_cast<uint8_t>(len);
}

void Tls13Records::CountRecord(bool write) {
  if (write && write_secret_len_ != 0) ++write_.seq;
  if (!write && read_secret_len_ != 0) ++read_.seq;
}

bool Tls13Records::Start(int fd, uint16_t suite) {
  if (started_ || spoiled_ || !tls13::IsSuite(suite)) return false;
  suite_ = static_cast<tls13::Suite>(suite);
  size_t len = tls13::SecretLength(suite_);
  if (read_secret_len_ != len || write_secret_len_ != len) return false;
  if (!tls13::DeriveKeys(suite_, &read_) || !tls13::DeriveKeys(suite_, &write_)) return false;
  fd_ = fd;
  started_ = true;
  return true;
}

ssize_t Tls13Records::Read(char* buf, size_t n) {
  want_ = TlsWant::kNothing;
  if (failed_) return -EPROTO;
  if (n == 0) return -EINVAL;
  // Our KeyUpdate answering the peer's goes out before more is read (as
  // OpenSSL does): a peer that asks for them and never reads cannot make
  // them pile up. A reply of ours half written does not stop reading.
  ssize_t f = FlushPending();
  if (f == -EAGAIN && !key_update_queued_) want_ = TlsWant::kNothing;
  else if (f < 0) return f;
  for (int turn = 0; turn < kRecordsPerCall; ++turn) {
    if (plain_off_ < plain_len_) {
      size_t k = std::min(n, plain_len_ - plain_off_);
      std::memcpy(buf, in_.get() + plain_off_, k);
      plain_off_ += k;
      if (plain_off_ == plain_len_) DropInput();
      return static_cast<ssize_t>(k);
    }
    if (peer_closed_) return 0;
    ssize_t r = NextRecord();
    if (r <= 0) return r;
  }
  want_ = TlsWant::kRead;
  return -EAGAIN;
}

ssize_t Tls13Records::ReadStopped(ssize_t r) {
  if (r == -EAGAIN) {
    want_ = TlsWant::kRead;
    return -EAGAIN;
  }
  if (r == 0) {
    // A FIN, perhaps inside a record: the end of the peer's data, as OpenSSL
    // reports it under SSL_OP_IGNORE_UNEXPECTED_EOF (tls_context.cc). The
    // part of a record read is dropped unused.
    peer_closed_ = true;
    DropInput();
    header_got_ = 0;
    return 0;
  }
  return r;
}

ssize_t Tls13Records::NextRecord() {
  while (header_got_ < kHeaderLength) {
    ssize_t r = sys::Read(fd_, header_ + header_got_, kHeaderLength - header_got_);
    if (r <= 0) return ReadStopped(r);
    header_got_ = static_cast<uint8_t>(header_got_ + r);
    if (header_got_ == kHeaderLength) {
      ssize_t h = HeaderDone();
      if (h < 0) return h;
    }
  }
  while (in_got_ < in_len_) {
    ssize_t r = sys::Read(fd_, in_.get() + in_got_, in_len_ - in_got_);
    if (r <= 0) return ReadStopped(r);
    in_got_ += static_cast<size_t>(r);
  }
  header_got_ = 0;
  in_got_ = 0;
  if (!tls13::Open(suite_, &read_, header_, in_.get(), in_len_)) return Fatal(kBadRecordMac, "bad record mac");
  // TLSInnerPlaintext: content, the type, then zeros (RFC 8446 5.4), at
  // most 2^14 + 1 bytes with the padding ("the full encoded
  // TLSInnerPlaintext MUST NOT exceed 2^14 + 1 octets").
  size_t inner = in_len_ - kTagLength;
  if (inner > kMaxInner) return Fatal(kRecordOverflow, "record overflow");
  while (inner > 0 && in_[inner - 1] == 0) --inner;
  if (inner == 0) return Fatal(kUnexpectedMessage, "a record without a content type");
  uint8_t type = in_[inner - 1];
  size_t len = inner - 1;
  switch (type) {
    case kApplicationData:
      plain_off_ = 0;
      plain_len_ = len;
      if (len == 0) DropInput();  // allowed (5.1), and nothing to hand out
      return 1;
    case kAlert: return OnAlert(len);
    case kHandshake: return OnHandshake(len);
    default:
      // change_cipher_spec is allowed only before the peer's Finished (5).
      return Fatal(kUnexpectedMessage, "unexpected record type after the handshake");
  }
}

ssize_t Tls13Records::HeaderDone() {
  // Every record after the handshake is protected, so its outer type is
  // application_data, and a TLS 1.3 peer writes 0x0303 (5.1).
  if (header_[0] != kApplicationData) return Fatal(kUnexpectedMessage, "a record not protected after the handshake");
  if (header_[1] != 3 || header_[2] != 3) return Fatal(kProtocolVersion, "wrong record version");
  size_t len = static_cast<size_t>(header_[3]) << 8 | header_[4];
  if (len > kMaxCiphertext) return Fatal(kRecordOverflow, "record overflow");
  // Not even a content type and a tag: cannot be authentic.
  if (len <= kTagLength) return Fatal(kBadRecordMac, "bad record mac");
  in_.reset(new uint8_t[len]);
  in_len_ = len;
  in_got_ = 0;
  return 0;
}

ssize_t Tls13Records::OnAlert(size_t len) {
  // Never empty (5.4); one alert per record, never fragmented (6).
  if (len == 0) return Fatal(kUnexpectedMessage, "empty alert record");
  if (len != 2) return Fatal(kDecodeError, "bad alert");
  uint8_t description = in_[1];
  DropInput();
  if (description == kCloseNotify) {
    peer_closed_ = true;
    return 0;
  }
  if (description == kUserCanceled) return 1;  // a close_notify should follow (6.1)
  failed_ = true;
  close_sent_ = true;  // a fatal alert ends the connection: nothing more is written
  error_ = std::string("peer sent alert: ") + SSL_alert_desc_string_long(description);
  return -EPROTO;
}

ssize_t Tls13Records::OnHandshake(size_t len) {
  // The one post-handshake message a client may send a server that asked for
  // no certificate is KeyUpdate (4.6), in a record of its own: the key
  // changes after it, and a key change falls on a record boundary (5.1).
  const uint8_t* m = in_.get();
  if (len < 4 || m[0] != kKeyUpdateType) return Fatal(kUnexpectedMessage, "unexpected handshake message");
  if (len != 5 || m[1] != 0 || m[2] != 0 || m[3] != 1) return Fatal(kDecodeError, "bad key update");
  uint8_t request = m[4];
  DropInput();
  if (request > 1) return Fatal(kIllegalParameter, "bad key update");
  if (!tls13::UpdateSecret(suite_, &read_)) return Fatal(kInternalError, "key update failed");
  if (request == 1 && !close_sent_) {
    // update_requested: ours (update_not_requested) under the old key, then
    // our new key for what follows.
    static constexpr uint8_t kKeyUpdateNotRequested[] = {kKeyUpdateType, 0, 0, 1, 0};
    if (!Queue(kHandshake, kKeyUpdateNotRequested, sizeof kKeyUpdateNotRequested) ||
        !tls13::UpdateSecret(suite_, &write_)) {
      return Fatal(kInternalError, "key update failed");
    }
    key_update_queued_ = true;
    ssize_t f = FlushPending();
    if (f < 0) return f;
  }
  return 1;
}

bool Tls13Records::Queue(uint8_t type, const uint8_t* data, size_t len) {
  size_t at = out_.size();
  out_.resize(at + kHeaderLength + len + 1 + kTagLength);
  uint8_t* record = out_.data() + at;
  if (len > 0) std::memcpy(record + kHeaderLength, data, len);
  record[kHeaderLength + len] = type;
  if (!tls13::Seal(suite_, &write_, record, len + 1)) {
    out_.resize(at);
    return false;
  }
  return true;
}

ssize_t Tls13Records::FlushPending() {
  while (out_off_ < out_.size()) {
    ssize_t r = sys::Send(fd_, out_.data() + out_off_, out_.size() - out_off_);
    if (r == -EAGAIN) {
      want_ = TlsWant::kWrite;
      return -EAGAIN;
    }
    if (r <= 0) return r == 0 ? -EPIPE : r;
    out_off_ += static_cast<size_t>(r);
  }
  if (!out_.empty()) std::vector<uint8_t>().swap(out_);  // an idle session keeps no buffer
  out_off_ = 0;
  key_update_queued_ = false;
  return 0;
}

ssize_t Tls13Records::Write(const char* buf, size_t n) {
  want_ = TlsWant::kNothing;
  if (failed_) return -EPROTO;
  if (close_sent_) return -EPIPE;
  if (n == 0) return -EINVAL;
  ssize_t f = FlushPending();
  if (f < 0) return f;
  if (out_plain_ > 0) {
    // The call again after -EAGAIN, with the same bytes: their record is out now.
    size_t done = out_plain_;
    out_plain_ = 0;
    return static_cast<ssize_t>(done);
  }
  size_t len = std::min(n, kMaxPlaintext);
  if (!Queue(kApplicationData, reinterpret_cast<const uint8_t*>(buf), len)) {
    return Fatal(kInternalError, "encryption failed");
  }
  f = FlushPending();
  if (f == -EAGAIN) out_plain_ = len;
  return f < 0 ? f : static_cast<ssize_t>(len);
}

TlsStep Tls13Records::Shutdown() {
  want_ = TlsWant::kNothing;
  if (failed_) return TlsStep::kFailed;
  if (!close_sent_) {
    static constexpr uint8_t kCloseNotifyAlert[] = {1, kCloseNotify};  // warning, close_notify
    if (!Queue(kAlert, kCloseNotifyAlert, sizeof kCloseNotifyAlert)) {
      error_ = "shutdown: encryption failed";
      return TlsStep::kFailed;
    }
    close_sent_ = true;
  }
  ssize_t f = FlushPending();
  if (f == 0) return TlsStep::kDone;
  if (f == -EAGAIN) return TlsStep::kWait;
  error_ = "shutdown: socket error";
  return TlsStep::kFailed;
}

TlsStep Tls13Records::AwaitPeerShutdown() {
  want_ = TlsWant::kNothing;
  if (failed_) return TlsStep::kFailed;
  ssize_t f = FlushPending();
  if (f == -EAGAIN) return TlsStep::kWait;
  if (f < 0) return TlsStep::kFailed;
  // Data before their close_notify is dropped, as SSL_shutdown does.
  for (int turn = 0; turn < kRecordsPerCall; ++turn) {
    DropInput();
    if (peer_closed_) return TlsStep::kDone;
    ssize_t r = NextRecord();
    if (r == 0) return TlsStep::kDone;
    if (r == -EAGAIN) return TlsStep::kWait;
    if (r < 0) {
      if (error_.empty()) error_ = "shutdown: socket error";
      return TlsStep::kFailed;
    }
  }
  want_ = TlsWant::kRead;
  return TlsStep::kWait;
}

ssize_t Tls13Records::Fatal(uint8_t alert, const char* why) {
  failed_ = true;
  error_ = why;
  DropInput();
  header_got_ = 0;
  // Behind whatever is queued (records are whole there, so it lands on a
  // record boundary), if the socket takes it now; the session closes anyway.
  if (!close_sent_) {
    close_sent_ = true;
    const uint8_t fatal[] = {2, alert};
    if (Queue(kAlert, fatal, sizeof fatal)) static_cast<void>(FlushPending());
  }
  std::vector<uint8_t>().swap(out_);
  out_off_ = 0;
  key_update_queued_ = false;
  want_ = TlsWant::kNothing;
  return -EPROTO;
}

void Tls13Records::DropInput() {
  if (in_) OPENSSL_cleanse(in_.get(), in_len_);
  in_.reset();
  in_len_ = 0;
  in_got_ = 0;
  plain_off_ = 0;
  plain_len_ = 0;
}

}  // namespace muxftpd
