// Tls13Records against records a hostile client seals with the right keys:
// each bad inner content gets its fatal alert (read back and opened here)
// and -EPROTO; the good oddities (padding, empty records, user_canceled, a
// KeyUpdate) are taken; the peer's alerts end it whatever their level. Then
// the stream: records cut at every byte, a record cut short by a FIN, a flood
// of KeyUpdates from a client that reads nothing (one of ours queued, nothing
// more read until it is out); and the nonce and AAD checked by hand. The
// client side is tls13_crypto's Seal, and a seal of its own for the inner
// plain text too long for Seal to make.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../engine/tls13_crypto.h"
#include "../engine/tls13_records.h"
#include "check.h"

namespace muxftpd {
namespace {

using tls13::Direction;
using tls13::Suite;

constexpr Suite kSuite = Suite::kAes128GcmSha256;

struct Pair {
  int server_fd = -1;
  int client_fd = -1;
  Tls13Records server;
  Direction client_write;  // the server's read direction
  Direction client_read;   // the server's write direction

  Pair() {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    server_fd = sv[0];
    client_fd = sv[1];
    CHECK(fcntl(server_fd, F_SETFL, O_NONBLOCK) == 0);
    uint8_t to_server[32];
    uint8_t to_client[32];
    for (int i = 0; i < 32; ++i) {
      to_server[i] = static_cast<uint8_t>(i * 3 + 1);
      to_client[i] = static_cast<uint8_t>(i * 5 + 2);
    }
    server.SetSecret(false, to_server, 32);
    server.SetSecret(true, to_client, 32);
    server.CountRecord(true);  // as if OpenSSL had sent a ticket under the write key
    CHECK(server.Start(server_fd, static_cast<uint16_t>(kSuite)));
    std::memcpy(client_write.secret, to_server, 32);
    std::memcpy(client_read.secret, to_client, 32);
    CHECK(tls13::DeriveKeys(kSuite, &client_write) && tls13::DeriveKeys(kSuite, &client_read));
    client_read.seq = 1;
  }
  ~Pair() {
    close(server_fd);
    close(client_fd);
  }

  // The record of `content` of `type` followed by `padding` zeros, sealed.
  std::string Seal(uint8_t type, const std::string& content, size_t padding = 0) {
    std::string record(5 + content.size() + 1 + padding + 16, '\0');
    auto* r = reinterpret_cast<uint8_t*>(record.data());
    std::memcpy(r + 5, content.data(), content.size());
    r[5 + content.size()] = type;
    CHECK(tls13::Seal(kSuite, &client_write, r, content.size() + 1 + padding));
    return record;
  }

  // Seals it and sends it.
  void Send(uint8_t type, const std::string& content, size_t padding = 0) {
    std::string record = Seal(type, content, padding);
    CHECK(write(client_fd, record.data(), record.size()) == static_cast<ssize_t>(record.size()));
  }

  // The whole records the server has sent so far, opened (their inner plain
  // text, type last), without waiting; a record's part stays for the next call.
  // A KeyUpdate moves the read key for the records after it.
  std::vector<std::string> Inbox() {
    char buf[65536];
    for (;;) {
      ssize_t n = recv(client_fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      inbox_.append(buf, static_cast<size_t>(n));
    }
    std::vector<std::string> records;
    while (inbox_.size() >= 5) {
      auto* h = reinterpret_cast<uint8_t*>(inbox_.data());
      size_t len = static_cast<size_t>(h[3]) << 8 | h[4];
      if (inbox_.size() < 5 + len) break;
      CHECK(tls13::Open(kSuite, &client_read, h, h + 5, len));
      records.push_back(inbox_.substr(5, len - 16));
      inbox_.erase(0, 5 + len);
      if (records.back().back() == 22 && records.back()[0] == 24) CHECK(tls13::UpdateSecret(kSuite, &client_read));
    }
    return records;
  }
  std::string inbox_;

  // The next record from the server, opened: its inner plain text.
  std::string Receive() {
    uint8_t header[5];
    CHECK(read(client_fd, header, 5) == 5);
    size_t len = static_cast<size_t>(header[3]) << 8 | header[4];
    std::vector<uint8_t> body(len);
    size_t got = 0;
    while (got < len) {
      ssize_t n = read(client_fd, body.data() + got, len - got);
      CHECK(n > 0);
      got += static_cast<size_t>(n);
    }
    CHECK(tls13::Open(kSuite, &client_read, header, body.data(), len));
    return std::string(reinterpret_cast<char*>(body.data()), len - 16);
  }

  std::string ReadAll() {
    std::string got;
    char buf[20000];
    for (;;) {
      ssize_t n = server.Read(buf, sizeof buf);
      if (n <= 0) {
        CHECK(n == -EAGAIN);
        return got;
      }
      got.append(buf, static_cast<size_t>(n));
    }
  }

  // The server fails on what was sent, with `error` and the fatal alert `alert`.
  void ExpectFatal(const char* error, uint8_t alert) {
    char buf[100];
    CHECK(server.Read(buf, sizeof buf) == -EPROTO);
    if (server.error() != error) std::fprintf(stderr, "error: %s, expected %s\n", server.error().c_str(), error);
    CHECK(server.error() == error);
    CHECK(Receive() == std::string({2, static_cast<char>(alert), 21}));
    CHECK(server.Read(buf, sizeof buf) == -EPROTO);
    CHECK(server.Write("x", 1) == -EPROTO);
  }
};

// A record of `content_len` bytes 'a', the content type `type` and `padding`
// zeros, whatever its length: Seal refuses an inner plain text over 2^14 + 1,
// so it is sealed here as a client that does not care would.
void SendUnchecked(Pair* p, uint8_t type, size_t content_len, size_t padding) {
  size_t inner = content_len + 1 + padding;
  std::vector<uint8_t> record(5 + inner + 16, 0);
  std::memset(record.data() + 5, 'a', content_len);
  record[5 + content_len] = type;
  size_t body = inner + 16;
  uint8_t header[5] = {23, 3, 3, static_cast<uint8_t>(body >> 8), static_cast<uint8_t>(body)};
  std::memcpy(record.data(), header, 5);
  uint8_t nonce[12];
  std::memcpy(nonce, p->client_write.iv, 12);
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<uint8_t>(p->client_write.seq >> (8 * i));
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  CHECK(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, p->client_write.key, nonce) == 1);
  CHECK(EVP_EncryptUpdate(c, nullptr, &n, header, 5) == 1);
  CHECK(EVP_EncryptUpdate(c, record.data() + 5, &n, record.data() + 5, static_cast<int>(inner)) == 1);
  CHECK(EVP_EncryptFinal_ex(c, record.data() + 5 + inner, &n) == 1);
  CHECK(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, record.data() + 5 + inner) == 1);
  EVP_CIPHER_CTX_free(c);
  ++p->client_write.seq;
  size_t sent = 0;
  while (sent < record.size()) {
    ssize_t w = write(p->client_fd, record.data() + sent, record.size() - sent);
    CHECK(w > 0);
    sent += static_cast<size_t>(w);
  }
}

void GoodOddities() {
  Pair p;
  p.Send(23, "USER a\r\n", 200);  // padding stripped
  p.Send(23, "");                 // an empty record
  p.Send(21, std::string({1, 90}));  // user_canceled: ignored
  p.Send(23, "PASS b\r\n");
  CHECK(p.ReadAll() == "USER a\r\nPASS b\r\n");
  CHECK(p.server.Write("230 ok\r\n", 8) == 8);
  CHECK(p.Receive() == std::string("230 ok\r\n") + '\x17');
  // KeyUpdate, update_requested: ours comes back under the old key, then both move.
  p.Send(22, std::string({24, 0, 0, 1, 1}));
  CHECK(tls13::UpdateSecret(kSuite, &p.client_write));
  p.Send(23, "NOOP\r\n");
  CHECK(p.ReadAll() == "NOOP\r\n");
  CHECK(p.Receive() == std::string({24, 0, 0, 1, 0, 22}));
  CHECK(tls13::UpdateSecret(kSuite, &p.client_read));
  CHECK(p.server.Write("200 ok\r\n", 8) == 8);
  CHECK(p.Receive() == std::string("200 ok\r\n") + '\x17');
  p.Send(21, std::string({1, 0}));  // close_notify
  char buf[10];
  CHECK(p.server.Read(buf, sizeof buf) == 0);
  CHECK(p.server.Read(buf, sizeof buf) == 0);
}

// The largest records a client may send: 2^14 bytes of content, or a
// shorter one padded to the same 2^14 + 1 bytes of inner plain text.
void Boundaries() {
  Pair p;
  p.Send(23, std::string(tls13::kMaxPlaintext, 'b'));
  p.Send(23, "NOOP\r\n", tls13::kMaxInner - 7);
  CHECK(p.ReadAll() == std::string(tls13::kMaxPlaintext, 'b') + "NOOP\r\n");
}

void Hostile() {
  struct Case {
    uint8_t type;
    std::string content;
    const char* error;
    uint8_t alert;
  };
  const Case cases[] = {
      {22, std::string({4, 0, 0, 1, 0}), "unexpected handshake message", 10},  // NewSessionTicket from a client
      {22, std::string({24, 0, 0, 1, 2}), "bad key update", 47},                // request_update 2
      {22, std::string({24, 0, 0, 2, 0, 0}), "bad key update", 50},             // a longer KeyUpdate
      {22, std::string({24, 0, 0, 1, 0, 24, 0, 0, 1, 0}), "bad key update", 50},  // two in one record
      {22, std::string({24, 0}), "unexpected handshake message", 10},           // a fragment
      {22, "", "unexpected handshake message", 10},                               // empty handshake record
      {20, std::string({1}), "unexpected record type after the handshake", 10},  // change_cipher_spec inside
      {21, std::string({2, 20, 0}), "bad alert", 50},                             // three bytes
      {21, std::string({2}), "bad alert", 50},                                    // one byte
      {21, "", "empty alert record", 10},                                         // none (RFC 8446 5.4)
      {99, "x", "unexpected record type after the handshake", 10},
  };
  for (const Case& c : cases) {
    Pair p;
    p.Send(c.type, c.content);
    p.ExpectFatal(c.error, c.alert);
  }
  {
    Pair p;  // nothing but zeros inside: no content type
    std::vector<uint8_t> record(5 + 10 + 16, 0);
    CHECK(tls13::Seal(kSuite, &p.client_write, record.data(), 10));
    CHECK(write(p.client_fd, record.data(), record.size()) == static_cast<ssize_t>(record.size()));
    p.ExpectFatal("a record without a content type", 10);
  }
  {
    Pair p;  // the inner plain text one byte over 2^14 + 1, all content
    SendUnchecked(&p, 23, tls13::kMaxPlaintext + 1, 0);
    p.ExpectFatal("record overflow", 22);
  }
  {
    // The padding counts (RFC 8446 5.4: "the full encoded TLSInnerPlaintext
    // MUST NOT exceed 2^14 + 1 octets"): 2^14 bytes, the type and one zero.
    Pair p;
    SendUnchecked(&p, 23, tls13::kMaxPlaintext, 1);
    p.ExpectFatal("record overflow", 22);
  }
  {
    Pair p;  // a short record padded past the limit, within 2^14 + 256 outside
    SendUnchecked(&p, 23, 6, tls13::kMaxPlaintext + 100);
    p.ExpectFatal("record overflow", 22);
  }
  {
    Pair p;  // a record replayed: its sequence number has passed
    p.Send(23, "NOOP\r\n");
    CHECK(p.ReadAll() == "NOOP\r\n");
    --p.client_write.seq;
    p.Send(23, "NOOP\r\n");
    p.ExpectFatal("bad record mac", 20);
  }
  // The peer's alerts other than close_notify and user_canceled end the
  // connection whatever their level (RFC 8446 6: TLS 1.3 has no warning but
  // those two), an unknown one too; no alert goes back.
  const std::pair<std::string, const char*> alerts[] = {
      {{2, 40}, "peer sent alert: handshake failure"},
      {{1, 40}, "peer sent alert: handshake failure"},
      {{1, 42}, "peer sent alert: bad certificate"},
      {{1, static_cast<char>(255)}, "peer sent alert: unknown"},
  };
  for (const auto& [alert, error] : alerts) {
    Pair p;
    p.Send(21, alert);
    char buf[10];
    CHECK(p.server.Read(buf, sizeof buf) == -EPROTO);
    CHECK(p.server.error() == error);
    CHECK(p.server.Write("x", 1) == -EPROTO);
    CHECK(p.Inbox().empty() && p.inbox_.empty());
  }
  {
    Pair p;  // close_notify at the fatal level still just ends the input
    p.Send(23, "QUIT\r\n");
    p.Send(21, std::string({2, 0}));
    char buf[10];
    CHECK(p.server.Read(buf, sizeof buf) == 6 && std::string(buf, 6) == "QUIT\r\n");
    CHECK(p.server.Read(buf, sizeof buf) == 0);
    CHECK(p.server.Write("221 bye\r\n", 9) == 9);
    CHECK(p.Receive() == std::string("221 bye\r\n") + '\x17');
  }
}

// Three records as a client sends them (a command, a KeyUpdate, a command
// under the new key), arriving in two parts cut at every byte, then one byte
// at a time: each part is taken as it comes, and nothing is lost, repeated or
// opened with the wrong key.
void SplitEverywhere() {
  const std::string want = "USER a\r\nPASS b\r\n";
  auto records = [](Pair* p) {
    std::string bytes = p->Seal(23, "USER a\r\n");  // one statement each: they seal in order
    bytes += p->Seal(22, std::string({24, 0, 0, 1, 0}));
    CHECK(tls13::UpdateSecret(kSuite, &p->client_write));
    bytes += p->Seal(23, "PASS b\r\n", 3);
    return bytes;
  };
  size_t total = 0;
  for (size_t cut = 1; total == 0 || cut < total; ++cut) {
    Pair p;
    std::string bytes = records(&p);
    total = bytes.size();
    CHECK(write(p.client_fd, bytes.data(), cut) == static_cast<ssize_t>(cut));
    std::string got = p.ReadAll();
    CHECK(write(p.client_fd, bytes.data() + cut, total - cut) == static_cast<ssize_t>(total - cut));
    got += p.ReadAll();
    CHECK(got == want);
  }
  Pair p;
  std::string bytes = records(&p);
  std::string got;
  for (char byte : bytes) {
    CHECK(write(p.client_fd, &byte, 1) == 1);
    got += p.ReadAll();
  }
  CHECK(got == want);
}

// A record cut short by the client's FIN, at each part of it: the end of the
// input (0, and again 0), nothing of the part handed out, and replies still go.
void HalfRecordThenEof() {
  for (size_t keep : {1, 4, 5, 6, 20, 27}) {
    Pair p;
    std::string record = p.Seal(23, "NOOP\r\n");
    CHECK(keep < record.size());
    CHECK(write(p.client_fd, record.data(), keep) == static_cast<ssize_t>(keep));
    CHECK(shutdown(p.client_fd, SHUT_WR) == 0);
    char buf[100];
    CHECK(p.server.Read(buf, sizeof buf) == 0);
    CHECK(p.server.Read(buf, sizeof buf) == 0);
    CHECK(!p.server.Pending());
    CHECK(p.server.Write("221 bye\r\n", 9) == 9);
    CHECK(p.Receive() == std::string("221 bye\r\n") + '\x17');
  }
}

// A client that asks for KeyUpdates by the dozen and reads nothing: one of
// ours is queued, and until it is out nothing more is read (the rest stay in
// the socket, the record layer says why), so neither the KeyUpdates nor the
// buffer pile up. Once the client reads, each gets its answer, in order.
void KeyUpdateFlood() {
  Pair p;
  const std::string big(tls13::kMaxPlaintext, 'r');
  size_t written = 0;
  for (;;) {
    ssize_t n = p.server.Write(big.data(), big.size());
    if (n == -EAGAIN) break;
    CHECK(n == static_cast<ssize_t>(big.size()));
    written += big.size();
  }
  constexpr int kAsked = 40;
  for (int i = 0; i < kAsked; ++i) {
    p.Send(22, std::string({24, 0, 0, 1, 1}));
    CHECK(tls13::UpdateSecret(kSuite, &p.client_write));
  }
  p.Send(23, "NOOP\r\n");
  const int in_socket = (kAsked - 1) * (5 + 5 + 1 + 16) + (5 + 6 + 1 + 16);
  char buf[100];
  for (int i = 0; i < 10; ++i) {
    CHECK(p.server.Read(buf, sizeof buf) == -EAGAIN);
    CHECK(p.server.want() == TlsWant::kWrite && p.server.ReadWaitsForWrite());
    int unread = 0;
    CHECK(ioctl(p.server_fd, FIONREAD, &unread) == 0);
    CHECK(unread == in_socket);
  }
  std::string got;
  size_t data = 0;
  int answers = 0;
  bool write_done = false;
  for (int turn = 0; turn < 100000 && got.empty(); ++turn) {
    for (const std::string& r : p.Inbox()) {
      if (r.back() == 22) {
        CHECK(r == std::string({24, 0, 0, 1, 0, 22}));
        ++answers;
      } else {
        CHECK(r.back() == 23 && answers == 0);
        data += r.size() - 1;
      }
    }
    if (!write_done) {
      ssize_t n = p.server.Write(big.data(), big.size());  // the call again, with the same bytes
      CHECK(n == -EAGAIN || n == static_cast<ssize_t>(big.size()));
      write_done = n > 0;
    }
    ssize_t f = p.server.FlushPending();
    CHECK(f == 0 || f == -EAGAIN);
    ssize_t n = p.server.Read(buf, sizeof buf);
    CHECK(n == -EAGAIN || n > 0);
    if (n > 0) got.assign(buf, static_cast<size_t>(n));
  }
  CHECK(got == "NOOP\r\n");
  CHECK(p.server.FlushPending() == 0);
  for (const std::string& r : p.Inbox()) {
    CHECK(r == std::string({24, 0, 0, 1, 0, 22}));
    ++answers;
  }
  CHECK(answers == kAsked && data == written + big.size());
  // Both sides are on generation kAsked: a reply opens.
  CHECK(p.server.Write("200 ok\r\n", 8) == 8);
  CHECK(p.Inbox() == std::vector<std::string>{std::string("200 ok\r\n") + '\x17'});
}

// The nonce is the iv XOR the 64-bit sequence number, right-aligned, and the
// AAD the record's 5-byte header (RFC 8446 5.2, 5.3): a record sealed at a
// sequence number with every byte set opens by hand with exactly those. The
// last sequence number is refused either way, so a nonce never repeats.
void NonceAndAad() {
  Direction d;
  for (int i = 0; i < 32; ++i) d.secret[i] = static_cast<uint8_t>(7 * i + 3);
  CHECK(tls13::DeriveKeys(kSuite, &d));
  d.seq = 0x0102030405060708;
  uint8_t record[5 + 3 + 16] = {0, 0, 0, 0, 0, 'o', 'k', 23};
  CHECK(tls13::Seal(kSuite, &d, record, 3));
  CHECK(d.seq == 0x0102030405060709);
  CHECK(record[0] == 23 && record[1] == 3 && record[2] == 3 && record[3] == 0 && record[4] == 3 + 16);
  uint8_t nonce[12];
  std::memcpy(nonce, d.iv, 12);
  for (int i = 0; i < 8; ++i) nonce[4 + i] ^= static_cast<uint8_t>(i + 1);
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  uint8_t plain[3];
  int n = 0;
  CHECK(EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), nullptr, d.key, nonce) == 1);
  CHECK(EVP_DecryptUpdate(c, nullptr, &n, record, 5) == 1);
  CHECK(EVP_DecryptUpdate(c, plain, &n, record + 5, 3) == 1);
  CHECK(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, record + 8) == 1);
  CHECK(EVP_DecryptFinal_ex(c, plain + n, &n) == 1);
  EVP_CIPHER_CTX_free(c);
  CHECK(plain[0] == 'o' && plain[1] == 'k' && plain[2] == 23);

  Direction e;
  std::memcpy(e.secret, d.secret, 32);
  CHECK(tls13::DeriveKeys(kSuite, &e));
  e.seq = 0x0102030405060708;
  CHECK(tls13::Open(kSuite, &e, record, record + 5, 3 + 16));
  uint8_t last[5 + 2 + 16] = {0, 0, 0, 0, 0, 'x', 23};
  d.seq = UINT64_MAX - 1;
  CHECK(tls13::Seal(kSuite, &d, last, 2) && d.seq == UINT64_MAX);
  CHECK(!tls13::Seal(kSuite, &d, last, 2) && d.seq == UINT64_MAX);
  e.seq = UINT64_MAX;
  CHECK(!tls13::Open(kSuite, &e, last, last + 5, 2 + 16));
}

}  // namespace
}  // namespace muxftpd

int main() {
  muxftpd::GoodOddities();
  muxftpd::Boundaries();
  muxftpd::Hostile();
  muxftpd::SplitEverywhere();
  muxftpd::HalfRecordThenEof();
  muxftpd::KeyUpdateFlood();
  muxftpd::NonceAndAad();
  std::fprintf(stderr, "tls13_hostile_test: ok\n");
  return 0;
}
