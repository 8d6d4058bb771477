// A control connection's TLS after the switch (TlsChannel hands it from
// OpenSSL to Tls13Records): an OpenSSL client talks to an echo server on a
// TlsChannel over a socketpair, for each TLS 1.3 suite. Many messages both
// ways, a megabyte that splits into records both ways and blocks the
// server's writes, KeyUpdates from the client (requested and not), close_notify
// both ways, clear text right after the close_notify (CCC), a record
// diverted and sent unchanged (works) or with one bit flipped (fails
// cleanly), hostile headers; and TLS 1.2, which stays with OpenSSL.
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "../engine/engine.h"
#include "../engine/tls_channel.h"
#include "../engine/tls_context.h"
#include "check.h"

namespace muxftpd {
namespace {

constexpr int kPollMs = 5000;  // a step that waits this long has hung: the test fails

struct ServerResult {
  bool switched = false;
  bool failed = false;
  std::string error;
  bool split = false;        // a Write of more than 2^14 bytes returned at most 2^14
  bool write_blocked = false;  // a Write returned -EAGAIN (the retry contract was used)
  std::string clear_tail;    // what came in clear after the close_notify exchange (BYE)
};

bool WaitFor(int fd, short events) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, kPollMs) == 1;
}

short EventsOf(TlsWant want) { return want == TlsWant::kWrite ? POLLOUT : POLLIN; }

// Echoes every byte until the peer's close_notify (then ours) or until a
// message ending in "BYE\n" (then ours first, theirs awaited, and the clear
// text after it read to EOF).
ServerResult RunEchoServer(SSL_CTX* ctx, int fd, std::atomic<uint64_t>* switches,
                           std::atomic<bool>* switched_flag) {
  ServerResult out;
  std::unique_ptr<TlsChannel> ch = TlsChannel::Accept(ctx, fd, 7, true, switches);
  CHECK(ch);
  for (;;) {
    TlsStep step = ch->Handshake();
    if (step == TlsStep::kDone) break;
    if (step == TlsStep::kFailed || !WaitFor(fd, EventsOf(ch->want()))) {
      out.failed = true;
      out.error = "handshake: " + ch->error();
      return out;
    }
  }
  std::string pending;
  bool eof = false;
  bool bye = false;
  for (;;) {
    char buf[16 * 1024];
    ssize_t r = eof || bye ? -EAGAIN : ch->Read(buf, sizeof buf);
    bool read_wants_write = r == -EAGAIN && ch->want() == TlsWant::kWrite;
    if (r > 0) {
      pending.append(buf, static_cast<size_t>(r));
      bye = pending.size() >= 4 && pending.compare(pending.size() - 4, 4, "BYE\n") == 0;
    } else if (r == 0) {
      eof = true;
    } else if (r != -EAGAIN) {
      out.failed = true;
      out.error = ch->error();
      break;
    }
    bool write_wants = false;
    while (!pending.empty()) {
      ssize_t w = ch->Write(pending.data(), pending.size());
      if (w == -EAGAIN) {
        out.write_blocked = true;
        write_wants = true;
        break;
      }
      if (w < 0) {
        out.failed = true;
        out.error = "write: " + ch->error();
        return out;
      }
      CHECK(static_cast<size_t>(w) <= pending.size());
      if (ch->switched() && pending.size() > 16384) {
        CHECK(w <= 16384);
        out.split = true;
      }
      pending.erase(0, static_cast<size_t>(w));
    }
    if (pending.empty()) {
      ssize_t f = ch->FlushPending();
      CHECK(f == 0 || f == -EAGAIN);
      write_wants = write_wants || f == -EAGAIN;
    }
    if (ch->switched() && !out.switched) {
      out.switched = true;
      switched_flag->store(true);
    }
    if ((eof || bye) && pending.empty() && !write_wants) break;
    if (r > 0 || ch->Pending()) continue;
    short events = (write_wants || read_wants_write ? POLLOUT : 0) | (eof || bye ? 0 : POLLIN);
    if (!WaitFor(fd, events)) {
      out.failed = true;
      out.error = "echo: timed out";
      return out;
    }
  }
  if (out.failed) return out;
  for (TlsStep s; (s = ch->Shutdown()) != TlsStep::kDone;) {
    CHECK(s == TlsStep::kWait && WaitFor(fd, POLLOUT));
  }
  if (bye) {
    for (TlsStep s; (s = ch->AwaitPeerShutdown()) != TlsStep::kDone;) {
      CHECK(s == TlsStep::kWait && WaitFor(fd, EventsOf(ch->want())));
    }
    ch.reset();  // clear text from here on, as the worker after CCC
    for (;;) {
      char buf[256];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n == 0) break;
      if (n < 0 && errno == EAGAIN) {
        CHECK(WaitFor(fd, POLLIN));
        continue;
      }
      CHECK(n > 0);
      out.clear_tail.append(buf, static_cast<size_t>(n));
    }
  }
  return out;
}

// The client side: a blocking OpenSSL client on the other end.
struct Client {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  int fd = -1;
  int key_updates_read = 0;  // KeyUpdate messages the server sent us

  ~Client() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  void Send(const std::string& data) const {
    size_t done = 0;
    while (done < data.size()) {
      size_t k = 0;
      CHECK(SSL_write_ex(ssl, data.data() + done, data.size() - done, &k) == 1);
      done += k;
    }
  }
  std::string Receive(size_t n) const {
    std::string got(n, '\0');
    size_t done = 0;
    while (done < n) {
      size_t k = 0;
      CHECK(SSL_read_ex(ssl, got.data() + done, n - done, &k) == 1);
      done += k;
    }
    return got;
  }
  void Echo(const std::string& data) const {
    Send(data);
    CHECK(Receive(data.size()) == data);
  }
};

void CountKeyUpdates(int write_p, int, int type, const void* buf, size_t len, SSL*, void* arg) {
  if (!write_p && type == SSL3_RT_HANDSHAKE && len > 0 && static_cast<const uint8_t*>(buf)[0] == SSL3_MT_KEY_UPDATE) {
    ++static_cast<Client*>(arg)->key_updates_read;
  }
}

void Connect(Client* c, int fd, int version, const char* suite) {
  c->fd = fd;
  c->ctx = SSL_CTX_new(TLS_client_method());
  CHECK(c->ctx);
  SSL_CTX_set_min_proto_version(c->ctx, version);
  SSL_CTX_set_max_proto_version(c->ctx, version);
  if (suite != nullptr) CHECK(SSL_CTX_set_ciphersuites(c->ctx, suite) == 1);
  c->ssl = SSL_new(c->ctx);
  CHECK(c->ssl && SSL_set_fd(c->ssl, fd) == 1);
  SSL_set_msg_callback(c->ssl, CountKeyUpdates);
  SSL_set_msg_callback_arg(c->ssl, c);
  CHECK(SSL_connect(c->ssl) == 1);
}

void AwaitSwitch(const std::atomic<bool>& switched) {
  for (int i = 0; i < 500 && !switched.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(switched.load());
}

// One connection: the server in this thread, `script` as the client in another.
ServerResult Run(SSL_CTX* server_ctx, int version, const char* suite, std::atomic<uint64_t>* switches,
                 const std::function<void(Client&, const std::atomic<bool>&)>& script) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
  std::atomic<bool> switched{false};
  std::thread client([&] {
    Client c;
    Connect(&c, sv[1], version, suite);
    script(c, switched);
    shutdown(sv[1], SHUT_WR);
  });
  ServerResult r = RunEchoServer(server_ctx, sv[0], switches, &switched);
  // A failed server stops reading: the client's blocked calls end with the socket.
  shutdown(sv[0], SHUT_RDWR);
  client.join();
  close(sv[0]);
  close(sv[1]);
  ERR_clear_error();
  return r;
}

std::string Pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

// The conversation of a long control session, after the switch.
void LongSession(Client& c, const std::atomic<bool>& switched) {
  c.Echo("AUTH done, first command\r\n");
  AwaitSwitch(switched);
  for (int i = 0; i < 300; ++i) c.Echo("NOOP " + std::to_string(i) + "\r\n");
  c.Echo(Pattern(40000, 1));  // records split both ways
  std::string big = Pattern(1 << 20, 2);
  // Sent whole before any of the echo is read: the server's writes block,
  // and it reads on meanwhile.
  c.Send(big);
  CHECK(c.Receive(big.size()) == big);
  CHECK(c.key_updates_read == 0);
  CHECK(SSL_key_update(c.ssl, SSL_KEY_UPDATE_REQUESTED) == 1);
  c.Echo("after a key update, requested\r\n");
  CHECK(c.key_updates_read == 1);
  CHECK(SSL_key_update(c.ssl, SSL_KEY_UPDATE_NOT_REQUESTED) == 1);
  c.Echo("after a key update, not requested\r\n");
  CHECK(c.key_updates_read == 1);
  CHECK(SSL_key_update(c.ssl, SSL_KEY_UPDATE_REQUESTED) == 1);
  c.Echo(Pattern(20000, 3));
  CHECK(c.key_updates_read == 2);
  for (int i = 0; i < 50; ++i) c.Echo("LIST " + std::to_string(i) + "\r\n");
  // Ours first: the server answers with its own.
  CHECK(SSL_shutdown(c.ssl) == 0);
  char byte;
  CHECK(SSL_read(c.ssl, &byte, 1) <= 0);
  CHECK(SSL_get_shutdown(c.ssl) & SSL_RECEIVED_SHUTDOWN);
}

// The server closes first; clear text follows the client's close_notify on
// the same socket, as after CCC.
void ClearAfterClose(Client& c, const std::atomic<bool>& switched) {
  c.Echo("hello\r\n");
  AwaitSwitch(switched);
  c.Echo("CCC BYE\n");
  char byte;
  CHECK(SSL_read(c.ssl, &byte, 1) == 0);
  CHECK(SSL_get_shutdown(c.ssl) & SSL_RECEIVED_SHUTDOWN);
  CHECK(SSL_shutdown(c.ssl) == 1);
  static constexpr char kClear[] = "USER clear\r\n";
  CHECK(write(c.fd, kClear, sizeof kClear - 1) == static_cast<ssize_t>(sizeof kClear - 1));
}

// A record of the client's, sealed by its SSL and sent by hand: unchanged,
// then with one bit of its ciphertext flipped.
void DivertedRecord(Client& c, bool flip) {
  BIO* socket_bio = SSL_get_rbio(c.ssl);
  BIO* mem = BIO_new(BIO_s_mem());
  CHECK(mem && BIO_up_ref(socket_bio) == 1);
  SSL_set0_wbio(c.ssl, mem);
  c.Send("DIVERTED\r\n");
  char* data = nullptr;
  long n = BIO_get_mem_data(mem, &data);
  CHECK(n == 5 + 10 + 1 + 16);
  std::string record(data, static_cast<size_t>(n));
  SSL_set0_wbio(c.ssl, socket_bio);
  if (flip) record[5 + 3] ^= 0x10;
  CHECK(write(c.fd, record.data(), record.size()) == static_cast<ssize_t>(record.size()));
}

void Tampered(Client& c, const std::atomic<bool>& switched) {
  c.Echo("hello\r\n");
  AwaitSwitch(switched);
  DivertedRecord(c, false);
  CHECK(c.Receive(10) == "DIVERTED\r\n");
  DivertedRecord(c, true);
  // The server's bad_record_mac alert, then the end.
  char byte;
  CHECK(SSL_read(c.ssl, &byte, 1) <= 0);
}

// Raw bytes from the client after the switch.
std::function<void(Client&, const std::atomic<bool>&)> RawAfterSwitch(std::string bytes) {
  return [bytes](Client& c, const std::atomic<bool>& switched) {
    c.Echo("hello\r\n");
    AwaitSwitch(switched);
    CHECK(write(c.fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    char byte;
    CHECK(SSL_read(c.ssl, &byte, 1) <= 0);
  };
}

void TestSuite(SSL_CTX* server_ctx, const char* suite) {
  std::fprintf(stderr, "suite %s\n", suite);
  std::atomic<uint64_t> switches{0};
  ServerResult r = Run(server_ctx, TLS1_3_VERSION, suite, &switches, LongSession);
  if (r.failed) std::fprintf(stderr, "server failed: %s\n", r.error.c_str());
  CHECK(!r.failed && r.switched && r.split && r.write_blocked);
  CHECK(switches.load() == 1);

  r = Run(server_ctx, TLS1_3_VERSION, suite, &switches, ClearAfterClose);
  CHECK(!r.failed && r.switched);
  CHECK(r.clear_tail == "USER clear\r\n");

  r = Run(server_ctx, TLS1_3_VERSION, suite, &switches, Tampered);
  CHECK(r.failed && r.switched);
  CHECK(r.error == "bad record mac");

  std::string oversize = std::string("\x17\x03\x03\x41\x01", 5) + std::string(0x4101, 'x');
  r = Run(server_ctx, TLS1_3_VERSION, suite, &switches, RawAfterSwitch(oversize));
  CHECK(r.failed && r.error == "record overflow");
  r = Run(server_ctx, TLS1_3_VERSION, suite, &switches, RawAfterSwitch(std::string("\x14\x03\x03\x00\x01\x01", 6)));
  CHECK(r.failed && r.error == "a record not protected after the handshake");
  r = Run(server_ctx, TLS1_3_VERSION, suite, &switches, RawAfterSwitch(std::string("\x17\x03\x03\x00\x10", 5) + std::string(16, 'x')));
  CHECK(r.failed && r.error == "bad record mac");
  CHECK(switches.load() == 6);
}

}  // namespace
}  // namespace muxftpd

int main() {
  using namespace muxftpd;
  SelfSigned made;
  std::string error;
  CHECK(MakeSelfSignedCertificate("localhost", &made, &error) == 0);
  TlsConfig config;
  config.enabled = true;
  config.cert = made.cert;
  config.key = made.key;
  std::unique_ptr<TlsContext> context;
  CHECK(TlsContext::Create(config, &context, &error) == 0);
  TestSuite(context->ctx(), "TLS_AES_128_GCM_SHA256");
  TestSuite(context->ctx(), "TLS_AES_256_GCM_SHA384");
  TestSuite(context->ctx(), "TLS_CHACHA20_POLY1305_SHA256");

  // TLS 1.2 stays with OpenSSL, and works.
  std::atomic<uint64_t> switches{0};
  ServerResult r = Run(context->ctx(), TLS1_2_VERSION, nullptr, &switches, [](Client& c, const std::atomic<bool>&) {
    for (int i = 0; i < 20; ++i) c.Echo("NOOP " + std::to_string(i) + "\r\n");
    c.Echo(Pattern(40000, 4));
    CHECK(SSL_shutdown(c.ssl) == 0);
    char byte;
    CHECK(SSL_read(c.ssl, &byte, 1) <= 0);
  });
  CHECK(!r.failed && !r.switched && switches.load() == 0);
  std::fprintf(stderr, "tls13_records_test: ok\n");
  return 0;
}
