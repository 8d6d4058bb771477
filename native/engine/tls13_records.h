// Our own TLS 1.3 record layer for a control connection whose handshake is
// over (docs/tls.md, "After the handshake"): OpenSSL's SSL costs ~14 KiB per
// idle session, this ~400 bytes. While OpenSSL runs the handshake it learns
// the application traffic secrets (the keylog callback) and counts the
// records each direction carries under them (the message callback: the
// sequence numbers, which OpenSSL does not expose); Start then takes over the
// socket and TlsChannel frees the SSL. OpenSSL's EVP still does the crypto
// (tls13_crypto.h); the framing, alerts and KeyUpdate are here.
//
// Every record from the peer is checked before a byte of it is used: outer
// type, version, length (at most 2^14 + 256), tag, inner length (at most
// 2^14 + 1, padding included). A record is read exactly (header, then body),
// so nothing after it (the clear text after a CCC) is taken from the socket.
// Memory is held only while a record is half read or half written.
#ifndef MUXFTPD_ENGINE_TLS13_RECORDS_H_
#define MUXFTPD_ENGINE_TLS13_RECORDS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tls13_crypto.h"
#include "tls_step.h"

namespace muxftpd {

class Tls13Records {
 public:
  // During the handshake. The traffic secret OpenSSL has just installed for
  // our writes (`write`) or the peer's: that direction's records count from 0.
  void SetSecret(bool write, const uint8_t* secret, size_t len);
  // A record OpenSSL wrote (`write`) or read.
  void CountRecord(bool write);
  // The keys moved in a way not followed here (a KeyUpdate OpenSSL handled):
  // this connection stays with OpenSSL.
  void Spoil() { spoiled_ = true; }
  bool spoiled() const { return spoiled_; }

  // Takes over `fd` with cipher suite `suite` (its IANA number): false when
  // it cannot (a suite not handled here, secrets missing or spoiled).
  bool Start(int fd, uint16_t suite);

  // TlsChannel's contract (tls_channel.h), for a started record layer.
  ssize_t Read(char* buf, size_t n);
  ssize_t Write(const char* buf, size_t n);
  // Sends what is queued (a record half written, our KeyUpdate): 0 once all
  // is out, -EAGAIN (want() kWrite), -errno, or -EPROTO after a failure.
  ssize_t FlushPending();
  TlsStep Shutdown();
  TlsStep AwaitPeerShutdown();
  bool Pending() const { return plain_off_ < plain_len_; }
  // Our KeyUpdate is queued: Read takes nothing until it is out (want() kWrite).
  bool ReadWaitsForWrite() const { return key_update_queued_; }
  TlsWant want() const { return want_; }
  const std::string& error() const { return error_; }

 private:
  // Reads and handles one record: 1 when one was handled (application data
  // is then in in_), 0 at the end of the peer's data, else -EAGAIN, -EPROTO
  // or -errno.
  ssize_t NextRecord();
  ssize_t HeaderDone();
  ssize_t OnAlert(size_t len);
  ssize_t OnHandshake(size_t len);
  // -EAGAIN (wanting to read), 0 (EOF) or the socket's -errno, for a read that returned `r`.
  ssize_t ReadStopped(ssize_t r);
  // Seals a record of content `type` and appends it to out_.
  bool Queue(uint8_t type, const uint8_t* data, size_t len);
  // Sends a fatal alert if it can, and fails: -EPROTO.
  ssize_t Fatal(uint8_t alert, const char* why);
  void DropInput();

  tls13::Suite suite_ = tls13::Suite::kAes128GcmSha256;
  tls13::Direction read_;
  tls13::Direction write_;
  uint8_t read_secret_len_ = 0;  // 0 until OpenSSL has installed it
  uint8_t write_secret_len_ = 0;
  bool spoiled_ = false;
  bool started_ = false;
  bool failed_ = false;
  bool peer_closed_ = false;  // close_notify or EOF read
  bool close_sent_ = false;   // our close_notify (or a fatal alert) queued: nothing more is written
  TlsWant want_ = TlsWant::kNothing;
  int fd_ = -1;

  // The record being read: its header, then its body, which becomes its
  // plain text once opened ([plain_off_, plain_len_) not handed out yet).
  uint8_t header_[tls13::kHeaderLength] = {};
  uint8_t header_got_ = 0;
  std::unique_ptr<uint8_t[]> in_;
  size_t in_len_ = 0;
  size_t in_got_ = 0;
  size_t plain_off_ = 0;
  size_t plain_len_ = 0;

  // Sealed records not yet sent ([out_off_, size)); out_plain_: the
  // plain-text length of the caller's record among them, which the Write
  // called again with the same bytes returns once it is out.
  std::vector<uint8_t> out_;
  size_t out_off_ = 0;
  size_t out_plain_ = 0;
  bool key_update_queued_ = false;  // our KeyUpdate is among them: no reading until it is out

  std::string error_;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_TLS13_RECORDS_H_
