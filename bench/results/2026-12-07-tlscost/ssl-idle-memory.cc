// Heap of idle server SSLs (OpenSSL alone): the server in this process, measured with mallinfo2; its clients in a
// forked child. g++ -O2 -o mem ssl-idle-memory.cc -lssl -lcrypto && ./mem 400 X25519|P-256 [tickets] ; NOCACHE=1: cache off
#include <malloc.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
static int GenTicket(SSL* ssl, void*) { uint64_t o = 7; SSL_SESSION* s = SSL_get0_session(ssl); if (s) SSL_SESSION_set1_ticket_appdata(s, &o, 8); return 1; }
static SSL_TICKET_RETURN DecTicket(SSL*, SSL_SESSION*, const unsigned char*, size_t, SSL_TICKET_STATUS st, void*) {
  return st == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE : st == SSL_TICKET_SUCCESS_RENEW ? SSL_TICKET_RETURN_USE_RENEW : SSL_TICKET_RETURN_IGNORE_RENEW; }
int main(int argc, char** argv) {
  int n = atoi(argv[1]);
  const char* groups = argc > 2 ? argv[2] : "P-256";
  int tickets = argc > 3 ? atoi(argv[3]) : 2;
  long extra = argc > 4 ? atol(argv[4]) : 0;  // extra mode bits
  std::vector<int> srv(n), cli(n);
  for (int i = 0; i < n; ++i) { int sv[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv); srv[i] = sv[0]; cli[i] = sv[1]; }
  pid_t pid = fork();
  if (pid == 0) {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
    SSL_CTX_set1_groups_list(c, groups);
    char buf[256];
    std::vector<SSL*> keep;
    for (int i = 0; i < n; ++i) {
      SSL* s = SSL_new(c); SSL_set_fd(s, cli[i]);
      if (SSL_connect(s) != 1) { fprintf(stderr, "connect failed\n"); _exit(1); }
      SSL_write(s, "NOOP\r\n", 6); SSL_read(s, buf, sizeof buf);
      keep.push_back(s);
    }
    char b; read(0, &b, 1);  // wait for parent to close stdin? just sleep
    _exit(0);
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | extra);
  SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384");
  SSL_CTX_use_certificate_chain_file(ctx, "cert.pem");
  SSL_CTX_use_PrivateKey_file(ctx, "key.pem", SSL_FILETYPE_PEM);
  SSL_CTX_set_session_id_context(ctx, (const unsigned char*)"muxftpd", 7);
  SSL_CTX_set_session_cache_mode(ctx, getenv("NOCACHE") ? SSL_SESS_CACHE_OFF : SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_session_ticket_cb(ctx, GenTicket, DecTicket, nullptr);
  SSL_CTX_set_num_tickets(ctx, tickets);
  char buf[256];
  std::vector<SSL*> keep;
  // warm up 20
  size_t m_new = 0, m_hs = 0, m_io = 0;
  for (int i = 0; i < n; ++i) {
    size_t a = mallinfo2().uordblks;
    SSL* s = SSL_new(ctx); SSL_set_fd(s, srv[i]);
    size_t b = mallinfo2().uordblks;
    if (SSL_accept(s) != 1) { fprintf(stderr, "accept failed\n"); return 1; }
    size_t c = mallinfo2().uordblks;
    SSL_read(s, buf, sizeof buf); SSL_write(s, "200 ok\r\n", 8);
    size_t d = mallinfo2().uordblks;
    if (i >= 20) { m_new += b - a; m_hs += c - b; m_io += d - c; }
    keep.push_back(s);
  }
  int k = n - 20;
  printf("groups %s tickets %d: SSL_new %zu B, handshake +%zu B, NOOP +%zu B: idle SSL %zu B\n", groups, tickets, m_new / k, m_hs / k, m_io / k, (m_new + m_hs + m_io) / k);
  kill(pid, 9); waitpid(pid, nullptr, 0);
  return 0;
}
