#include "tls_context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

#include "engine.h"
#include "tls_channel.h"

namespace muxftpd {

namespace {

// TLS 1.2 suites with forward secrecy and AEAD only (Mozilla's "intermediate"
// list without DHE); TLS 1.3 keeps OpenSSL's default suites, all of them AEAD.
constexpr char kCiphers12[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr char kGroups[] = "X25519:P-256:P-384";
// A long FTP session resumes its control connection's TLS session on every
// data connection: the session must outlive the session's whole day.
constexpr long kSessionLifetimeSeconds = 24 * 3600;
// Server-side cache of TLS 1.2 sessions (TLS 1.3 uses stateless tickets,
// which cost no server memory): OpenSSL's default size.
constexpr long kSessionCacheSize = 20480;

// The ticket callbacks: the tag (TagTlsSession) rides in the ticket's app
// data. A control connection's tickets carry its own session's id; a data
// connection's keep the tag of the session it resumed (its handshake issues
// tickets before the worker checks that tag, which must still be the
// original's), and tag a session only when it has none.
int GenerateTicket(SSL* ssl, void*) {
  uint64_t owner = 0;
  bool control = TlsChannelOwner(ssl, &owner);
  SSL_SESSION* session = SSL_get0_session(ssl);
  void* data = nullptr;
  size_t len = 0;
  bool tagged = session != nullptr && SSL_SESSION_get0_ticket_appdata(session, &data, &len) == 1 && len > 0;
  if (session != nullptr && (control || !tagged)) SSL_SESSION_set1_ticket_appdata(session, &owner, sizeof owner);
  return 1;
}

SSL_TICKET_RETURN DecryptTicket(SSL*, SSL_SESSION*, const unsigned char*, size_t, SSL_TICKET_STATUS status,
                                void*) {
  // OpenSSL's own choices when no callback is set.
  switch (status) {
    case SSL_TICKET_SUCCESS: return SSL_TICKET_RETURN_USE;
    case SSL_TICKET_SUCCESS_RENEW: return SSL_TICKET_RETURN_USE_RENEW;
    case SSL_TICKET_EMPTY:
    case SSL_TICKET_NO_DECRYPT: return SSL_TICKET_RETURN_IGNORE_RENEW;
    default: return SSL_TICKET_RETURN_ABORT;
  }
}

BioPtr MemoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

int Fail(std::string* error, const std::string& what) {
  *error = what + ": " + TakeTlsError("bad PEM");
  return -EINVAL;
}

// The certificate, then any chain certificates after it, from one PEM text.
bool UseCertificateChain(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  if (!bio) return false;
  X509Ptr leaf(PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf.get()) != 1) return false;
  while (true) {
    X509Ptr extra(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!extra) break;
    // add0: the context takes the reference on success.
    if (SSL_CTX_add0_chain_cert(ctx, extra.get()) != 1) return false;
    static_cast<void>(extra.release());
  }
  // The loop ends on "no start line": the end of the text, not an error.
  ERR_clear_error();
  return true;
}

std::string PemOf(int (*write)(BIO*, void*), void* object) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get(), object) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

bool AddExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, TlsFree> ext(X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool IsIpAddress(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

}  // namespace

std::string TakeTlsError(const char* fallback) {
  unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : fallback;
}

int TlsContext::Create(const TlsConfig& config, std::unique_ptr<TlsContext>* out, std::string* error) {
  ERR_clear_error();
  std::unique_ptr<TlsContext> c(new TlsContext());
  c->ctx_.reset(SSL_CTX_new(TLS_server_method()));
  SSL_CTX* ctx = c->ctx_.get();
  if (ctx == nullptr) return Fail(error, "create the TLS context");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // IGNORE_UNEXPECTED_EOF: an upload that ends with a bare FIN is complete
  // (many clients send no close_notify; vsftpd accepts it too).
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  // RELEASE_BUFFERS: an idle session holds no record buffers (34 KiB each
  // otherwise). PARTIAL_WRITE and MOVING_WRITE_BUFFER: the non-blocking
  // writers retry with what is left, from a buffer that may have moved (the
  // control output grows; a download reads its block again).
  // NO_AUTO_CHAIN: the chain is what the PEM holds (UseCertificateChain);
  // without it OpenSSL tries to build one from the context's (empty) store on
  // every full handshake.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_NO_AUTO_CHAIN);
  if (SSL_CTX_set_cipher_list(ctx, kCiphers12) != 1) return Fail(error, "set the TLS 1.2 ciphers");
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) return Fail(error, "set the key exchange groups");
  if (!UseCertificateChain(ctx, config.cert)) return Fail(error, "the TLS certificate");
  BioPtr key_bio = MemoryBio(config.key);
  PkeyPtr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) return Fail(error, "the TLS key");
  if (SSL_CTX_check_private_key(ctx) != 1) return Fail(error, "the TLS key does not match the certificate");
  // One session cache for every worker (OpenSSL locks it), and ticket keys
  // made per context: tickets of another process of --processes do not
  // decrypt here, so a data connection cannot resume there.
  static const unsigned char kIdContext[] = "muxftpd";
  SSL_CTX_set_session_id_context(ctx, kIdContext, sizeof kIdContext - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx, kSessionCacheSize);
  SSL_CTX_set_timeout(ctx, kSessionLifetimeSeconds);
  SSL_CTX_set_session_ticket_cb(ctx, GenerateTicket, DecryptTicket, nullptr);
  // One TLS 1.3 ticket after a full handshake, not OpenSSL's two: every data
  // connection of the FTP session resumes from it (and a download's resumed
  // handshake hands out one more, for clients that take the latest), and
  // each ticket is a session encoded and encrypted plus a write of its own
  // (docs/tls.md, "What a handshake costs").
  SSL_CTX_set_num_tickets(ctx, 1);
  TlsChannel::PrepareContext(ctx);
  c->reuse_required_ = config.reuse_required;
#if defined(SSL_OP_ENABLE_KTLS) && !defined(OPENSSL_NO_KTLS)
  c->ktls_ = config.ktls;
#else
  // This OpenSSL was built without kernel TLS (Node's bundled copy is): --ktls auto is off.
  c->ktls_ = false;
#endif
  *out = std::move(c);
  return 0;
}

void SetTlsChannelOwner(SSL* ssl, uint64_t owner, bool control) {
  // Session ids stay below 2^53: the low bit says which kind of connection.
  SSL_set_app_data(ssl, reinterpret_cast<void*>(static_cast<uintptr_t>(owner << 1 | (control ? 0 : 1))));
}

bool TlsChannelOwner(SSL* ssl, uint64_t* owner) {
  uintptr_t v = reinterpret_cast<uintptr_t>(SSL_get_app_data(ssl));
  *owner = v >> 1;
  return (v & 1) == 0;
}

void TagTlsSession(SSL* ssl, uint64_t owner) {
  SSL_SESSION* session = SSL_get0_session(ssl);
  if (session != nullptr) SSL_SESSION_set1_ticket_appdata(session, &owner, sizeof owner);
}

bool TlsSessionTag(SSL* ssl, uint64_t* owner) {
  SSL_SESSION* session = SSL_get0_session(ssl);
  void* data = nullptr;
  size_t len = 0;
  if (session == nullptr || SSL_SESSION_get0_ticket_appdata(session, &data, &len) != 1 || len != sizeof *owner) {
    return false;
  }
  std::memcpy(owner, data, sizeof *owner);
  return true;
}

int MakeSelfSignedCertificate(const std::string& common_name, SelfSigned* out, std::string* error) {
  ERR_clear_error();
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return Fail(error, "make an ECDSA P-256 key");
  X509Ptr cert(X509_new());
  if (!cert) return Fail(error, "make a certificate");
  X509* x = cert.get();
  uint64_t serial = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial) != 1) return Fail(error, "random serial");
  serial >>= 1;  // positive
  bool ok = X509_set_version(x, X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(x), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600) != nullptr &&
            X509_set_pubkey(x, key.get()) == 1;
  X509_NAME* name = X509_get_subject_name(x);
  ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                        reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) == 1;
  ok = ok && X509_set_issuer_name(x, name) == 1;
  std::string san = (IsIpAddress(common_name) ? "IP:" : "DNS:") + common_name;
  if (common_name != "127.0.0.1") san += ",IP:127.0.0.1";
  if (common_name != "::1") san += ",IP:::1";
  ok = ok && AddExtension(x, NID_subject_alt_name, san) &&
       AddExtension(x, NID_basic_constraints, "critical,CA:FALSE") &&
       AddExtension(x, NID_key_usage, "critical,digitalSignature") &&
       AddExtension(x, NID_ext_key_usage, "serverAuth") && X509_sign(x, key.get(), EVP_sha256()) > 0;
  if (!ok) return Fail(error, "make the self-signed certificate");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(x, EVP_sha256(), md, &md_len) != 1) return Fail(error, "fingerprint");
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string fingerprint;
  for (unsigned int i = 0; i < md_len; ++i) {
    if (i > 0) fingerprint += ':';
    fingerprint += kHex[md[i] >> 4];
    fingerprint += kHex[md[i] & 15];
  }
  out->cert = PemOf([](BIO* b, void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(o)); }, x);
  out->key = PemOf(
      [](BIO* b, void* o) {
        return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(o), nullptr, nullptr, 0, nullptr, nullptr);
      },
      key.get());
  out->fingerprint = std::move(fingerprint);
  if (out->cert.empty() || out->key.empty()) return Fail(error, "write the certificate as PEM");
  return 0;
}

}  // namespace muxftpd
