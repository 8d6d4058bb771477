#include "tls.h"

#include "fatal.h"

#if FTPLOAD_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

namespace muxftpd::ftpload {

const char* TlsModeName(TlsMode m) {
  switch (m) {
    case TlsMode::kOff: return "off";
    case TlsMode::kExplicit: return "explicit";
    case TlsMode::kImplicit: return "implicit";
  }
  return "?";
}

const char kTlsUnavailable[] =
    "--tls: this ftpload was built without OpenSSL (its headers were missing): install the "
    "Debian package libssl-dev, then rebuild it with `npm run build:ftpload` (or npm install)";

#if FTPLOAD_TLS

namespace {

SSL_CTX* g_ctx = nullptr;

// A session the server issued (TLS 1.2: at the handshake; TLS 1.3: each
// ticket, read after it): the owner's data connections resume the latest.
int OnNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* sink = static_cast<TlsSessionSink*>(SSL_get_app_data(ssl));
  if (!sink) return 0;  // not kept: OpenSSL frees it
  if (sink->latest) SSL_SESSION_free(sink->latest);
  sink->latest = session;
  sink->issued++;
  return 1;  // ours now
}

ssize_t Result(SSL* ssl, int r) {
  switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ: return kTlsWantRead;
    case SSL_ERROR_WANT_WRITE: return kTlsWantWrite;
    case SSL_ERROR_ZERO_RETURN: return 0;
    default: return kTlsFailed;
  }
}

}  // namespace

bool TlsAvailable() { return true; }

std::string TlsLibraryVersion() { return OpenSSL_version(OPENSSL_VERSION); }

void TlsInit(int version) {
  g_ctx = SSL_CTX_new(TLS_client_method());
  if (!g_ctx) Die("--tls: SSL_CTX_new failed");
  const int v = version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;
  if (!SSL_CTX_set_min_proto_version(g_ctx, v) || !SSL_CTX_set_max_proto_version(g_ctx, v)) {
    Die("--tls-version: this OpenSSL cannot pin TLS 1.%d", version % 10);
  }
  // A stress client: any certificate is taken (the server's signature is
  // still checked, as part of every full handshake).
  SSL_CTX_set_verify(g_ctx, SSL_VERIFY_NONE, nullptr);
  // P-256 first: vsftpd and pure-ftpd (Debian 12) only accept it and would
  // answer an X25519 key share with a HelloRetryRequest (a round trip more);
  // every server gets the same key exchange.
  if (!SSL_CTX_set1_groups_list(g_ctx, "P-256:X25519")) Die("--tls: no P-256 group in this OpenSSL");
  SSL_CTX_set_session_cache_mode(g_ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(g_ctx, OnNewSession);
  // Control lines are sent from a std::string that may move between tries;
  // idle sessions keep no record buffers.
  SSL_CTX_set_mode(g_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
  // A download may end with a bare FIN (its size is checked instead).
  SSL_CTX_set_options(g_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_NO_RENEGOTIATION);
}

ssl_st* TlsNew(int fd, TlsSessionSink* sink) {
  SSL* ssl = SSL_new(g_ctx);
  if (!ssl) return nullptr;
  if (!SSL_set_fd(ssl, fd) || (sink->latest && !SSL_set_session(ssl, sink->latest))) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_app_data(ssl, sink);
  SSL_set_connect_state(ssl);
  return ssl;
}

ssize_t TlsHandshake(ssl_st* ssl) {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl);
  return r == 1 ? 1 : Result(ssl, r);
}

bool TlsResumed(ssl_st* ssl) { return SSL_session_reused(ssl) == 1; }

ssize_t TlsRead(ssl_st* ssl, void* buf, size_t len) {
  ERR_clear_error();
  size_t n = 0;
  int r = SSL_read_ex(ssl, buf, len, &n);
  return r == 1 ? static_cast<ssize_t>(n) : Result(ssl, r);
}

ssize_t TlsWrite(ssl_st* ssl, const void* buf, size_t len) {
  ERR_clear_error();
  size_t n = 0;
  int r = SSL_write_ex(ssl, buf, len, &n);
  return r == 1 ? static_cast<ssize_t>(n) : Result(ssl, r);
}

int TlsPending(ssl_st* ssl) { return SSL_pending(ssl); }

void TlsClose(ssl_st*& ssl) {
  if (!ssl) return;
  ERR_clear_error();
  (void)SSL_shutdown(ssl);
  TlsFree(ssl);
}

void TlsFree(ssl_st*& ssl) {
  if (!ssl) return;
  SSL_set_app_data(ssl, nullptr);
  SSL_free(ssl);
  ssl = nullptr;
}

void TlsForget(TlsSessionSink& sink) {
  if (sink.latest) SSL_SESSION_free(sink.latest);
  sink.latest = nullptr;
}

std::string TlsErrorWord() {
  unsigned long e = ERR_peek_last_error();
  const char* reason = e ? ERR_reason_error_string(e) : nullptr;
  std::string w = reason ? reason : "syscall";
  for (char& c : w) c = (c == ' ' || c == '-') ? '_' : c;
  ERR_clear_error();
  return w;
}

#else  // !FTPLOAD_TLS: Options refuses --tls, so nothing below runs.

bool TlsAvailable() { return false; }
std::string TlsLibraryVersion() { return ""; }
void TlsInit(int) { Die("%s", kTlsUnavailable); }
ssl_st* TlsNew(int, TlsSessionSink*) { return nullptr; }
ssize_t TlsHandshake(ssl_st*) { return kTlsFailed; }
bool TlsResumed(ssl_st*) { return false; }
ssize_t TlsRead(ssl_st*, void*, size_t) { return kTlsFailed; }
ssize_t TlsWrite(ssl_st*, const void*, size_t) { return kTlsFailed; }
int TlsPending(ssl_st*) { return 0; }
void TlsClose(ssl_st*& ssl) { ssl = nullptr; }
void TlsFree(ssl_st*& ssl) { ssl = nullptr; }
void TlsForget(TlsSessionSink& sink) { sink.latest = nullptr; }
std::string TlsErrorWord() { return "unavailable"; }

#endif

}  // namespace muxftpd::ftpload
