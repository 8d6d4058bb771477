// Tls13Records against records a hostile client seals with the right keys:
// each bad inner content gets its fatal alert (read back and opened here)
// and -EPROTO; the good oddities (padding, empty records, user_canceled, a
// KeyUpdate) are taken. The client side is tls13_crypto's Seal, and a seal of
// its own for the inner plain text too long for Seal to make.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
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

  // Seals `content` of `type` followed by `padding` zeros and sends it.
  void Send(uint8_t type, const std::string& content, size_t padding = 0) {
    std::vector<uint8_t> record(5 + content.size() + 1 + padding + 16);
    std::memcpy(record.data() + 5, content.data(), content.size());
    record[5 + content.size()] = type;
    CHECK(tls13::Seal(kSuite, &client_write, record.data(), content.size() + 1 + padding));
    CHECK(write(client_fd, record.data(), record.size()) == static_cast<ssize_t>(record.size()));
  }

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
  {
    Pair p;  // the peer's fatal alert: no alert back
    p.Send(21, std::string({2, 40}));
    char buf[10];
    CHECK(p.server.Read(buf, sizeof buf) == -EPROTO);
    CHECK(p.server.error() == "peer sent alert: handshake failure");
    CHECK(fcntl(p.client_fd, F_SETFL, O_NONBLOCK) == 0);
    char byte;
    CHECK(read(p.client_fd, &byte, 1) == -1 && errno == EAGAIN);
  }
}

}  // namespace
}  // namespace muxftpd

int main() {
  muxftpd::GoodOddities();
  muxftpd::Boundaries();
  muxftpd::Hostile();
  std::fprintf(stderr, "tls13_hostile_test: ok\n");
  return 0;
}
