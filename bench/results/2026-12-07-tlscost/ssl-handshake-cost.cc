// Server-side CPU of a TLS 1.3 handshake (full, then resumed), OpenSSL alone: a server and a client SSL over
// a socketpair in one thread, the server's calls timed (thread CPU). Options: noautochain, tickets=N, nocache, nocb.
// g++ -O2 -o hs ssl-handshake-cost.cc -lssl -lcrypto && ./hs 500 [options]  (cert.pem, key.pem: P-256, in the cwd)
#include <malloc.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/pem.h>
#include <time.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static double tcpu() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}
static double srv_us = 0;
static int opt_noautochain = 0, opt_tickets = 2, opt_cache = 1, opt_cb = 1, opt_release = 1;
static SSL_SESSION* latest = nullptr;
static int NewSession(SSL*, SSL_SESSION* s) {
  if (latest) SSL_SESSION_free(latest);
  latest = s;
  return 1;
}
static int GenTicket(SSL* ssl, void*) {
  uint64_t owner = 7;
  SSL_SESSION* session = SSL_get0_session(ssl);
  if (session) SSL_SESSION_set1_ticket_appdata(session, &owner, sizeof owner);
  return 1;
}
static SSL_TICKET_RETURN DecTicket(SSL*, SSL_SESSION*, const unsigned char*, size_t, SSL_TICKET_STATUS st, void*) {
  return st == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE
         : st == SSL_TICKET_SUCCESS_RENEW ? SSL_TICKET_RETURN_USE_RENEW
                                          : SSL_TICKET_RETURN_IGNORE_RENEW;
}

static SSL_CTX* ServerCtx() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  long mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
  if (opt_release) mode |= SSL_MODE_RELEASE_BUFFERS;
  if (opt_noautochain) mode |= SSL_MODE_NO_AUTO_CHAIN;
  SSL_CTX_set_mode(ctx, mode);
  SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384");
  SSL_CTX_use_certificate_chain_file(ctx, "cert.pem");
  SSL_CTX_use_PrivateKey_file(ctx, "key.pem", SSL_FILETYPE_PEM);
  static const unsigned char kId[] = "muxftpd";
  SSL_CTX_set_session_id_context(ctx, kId, 7);
  SSL_CTX_set_session_cache_mode(ctx, opt_cache ? SSL_SESS_CACHE_SERVER : SSL_SESS_CACHE_OFF);
  SSL_CTX_set_timeout(ctx, 86400);
  if (opt_cb) SSL_CTX_set_session_ticket_cb(ctx, GenTicket, DecTicket, nullptr);
  SSL_CTX_set_num_tickets(ctx, opt_tickets);
  return ctx;
}

struct Pair {
  SSL* c;
  SSL* s;
};

// Moves bytes until both are done with the handshake (and the client has read tickets).
static void Pump(Pair& p, bool server_timed) {
  for (int i = 0; i < 50; ++i) {
    int rc = SSL_do_handshake(p.c);
    double t0 = tcpu();
    int rs = SSL_do_handshake(p.s);
    if (server_timed) srv_us += tcpu() - t0;
    if (rc == 1 && rs == 1) break;
  }
}

// The server's SSL (its SSL_new timed) and the client's over a socketpair, handshake done.
static void Connect(Pair& p, SSL_CTX* sctx) {
  double t0 = tcpu();
  p.s = SSL_new(sctx);
  srv_us += tcpu() - t0;
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
  SSL_set_fd(p.c, sv[0]);
  SSL_set_fd(p.s, sv[1]);
  SSL_set_connect_state(p.c);
  SSL_set_accept_state(p.s);
  Pump(p, true);
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  for (int i = 2; i < argc; ++i) {
    if (!strcmp(argv[i], "noautochain")) opt_noautochain = 1;
    else if (!strncmp(argv[i], "tickets=", 8)) opt_tickets = atoi(argv[i] + 8);
    else if (!strcmp(argv[i], "nocache")) opt_cache = 0;
    else if (!strcmp(argv[i], "nocb")) opt_cb = 0;
    else if (!strcmp(argv[i], "norelease")) opt_release = 0;
  }
  SSL_CTX* sctx = ServerCtx();
  SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
  SSL_CTX_set1_groups_list(cctx, "P-256:X25519");
  SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(cctx, NewSession);
  SSL_CTX_set_quiet_shutdown(cctx, 1);
  std::vector<Pair> held;
  held.reserve(n);
  char buf[256];
  // warm
  for (int phase = 0; phase < 2; ++phase) {
    int count = phase == 0 ? 50 : n;
    srv_us = 0;
    struct mallinfo2 m0 = mallinfo2();
    for (int i = 0; i < count; ++i) {
      Pair p;
      p.c = SSL_new(cctx);
      Connect(p, sctx);
      double t0;
      // NOOP over TLS and reply; the client reads tickets with the reply.
      SSL_write(p.c, "NOOP\r\n", 6);
      t0 = tcpu();
      int r = SSL_read(p.s, buf, sizeof buf);
      SSL_write(p.s, "200 ok\r\n", 8);
      SSL_read(p.s, buf, sizeof buf);  // nothing: WANT_READ
      srv_us += tcpu() - t0;
      r = SSL_read(p.c, buf, sizeof buf);
      (void)r;
      SSL_read(p.c, buf, sizeof buf);
      if (phase == 1) held.push_back(p);
      else { SSL_free(p.c); SSL_free(p.s); }
    }
    struct mallinfo2 m1 = mallinfo2();
    if (phase == 1)
      printf("full: server %.1f us/handshake (SSL_new..NOOP); idle pair heap %.0f B; ", srv_us / count,
             (double)(m1.uordblks - m0.uordblks) / count);
  }
  // free clients to isolate the server's share
  struct mallinfo2 m0 = mallinfo2();
  for (auto& p : held) { SSL_set_shutdown(p.c, SSL_SENT_SHUTDOWN); SSL_free(p.c); p.c = nullptr; }
  struct mallinfo2 m1 = mallinfo2();
  printf("client share %.0f B\n", (double)(m0.uordblks - m1.uordblks) / n);
  for (auto& p : held) SSL_free(p.s);
  // resumption cost
  if (latest) {
    srv_us = 0;
    int resumed = 0;
    for (int i = 0; i < n; ++i) {
      Pair p;
      p.c = SSL_new(cctx);
      SSL_set_session(p.c, latest);
      Connect(p, sctx);
      resumed += SSL_session_reused(p.s);
      SSL_read(p.c, buf, sizeof buf);
      SSL_set_shutdown(p.c, SSL_SENT_SHUTDOWN); SSL_free(p.c);
      double t0 = tcpu();
      SSL_free(p.s);
      srv_us += tcpu() - t0;
    }
    printf("latest resumable %d; ", SSL_SESSION_is_resumable(latest));
    printf("resumed %d/%d: server %.1f us/handshake\n", resumed, n, srv_us / n);
  }
  return 0;
}
