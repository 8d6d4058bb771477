// The engine's one TLS server context (RFC 4217 FTPS): the certificate, the
// protocol floor, the session cache and ticket keys every worker shares, and
// the self-signed certificate of --tls-cert auto. OpenSSL is Node's own copy
// (see docs/tls.md): the addon links against the symbols node exports.
#ifndef MUXFTPD_ENGINE_TLS_CONTEXT_H_
#define MUXFTPD_ENGINE_TLS_CONTEXT_H_

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>

namespace muxftpd {

struct TlsConfig;

// unique_ptr deleters for OpenSSL's objects: every one is owned by exactly one
// of these, none is freed by hand.
struct TlsFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, TlsFree>;
using SslPtr = std::unique_ptr<SSL, TlsFree>;
using X509Ptr = std::unique_ptr<X509, TlsFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, TlsFree>;
using BioPtr = std::unique_ptr<BIO, TlsFree>;

// The last OpenSSL error of this thread, short ("wrong version number"), and
// the thread's error queue emptied (a stale error must not be blamed on the
// next session this thread serves). `fallback` when the queue is empty.
std::string TakeTlsError(const char* fallback);

class TlsContext {
 public:
  // A context for `config` (PEM cert, chain allowed, and key): 0, or -EINVAL
  // with `error` saying what was wrong with them.
  static int Create(const TlsConfig& config, std::unique_ptr<TlsContext>* out, std::string* error);

  SSL_CTX* ctx() const { return ctx_.get(); }
  bool reuse_required() const { return reuse_required_; }
  bool ktls() const { return ktls_; }

 private:
  TlsContext() = default;
  SslCtxPtr ctx_;
  bool reuse_required_ = true;
  bool ktls_ = false;
};

// Which FTP session an SSL serves, and whether on its control connection
// (else a data connection): kept in the SSL's app data.
void SetTlsChannelOwner(SSL* ssl, uint64_t owner, bool control);
// The owner; true for a control connection.
bool TlsChannelOwner(SSL* ssl, uint64_t* owner);

// The tag a control connection's TLS session carries into its tickets (and
// its cached session), so a data connection that resumes a session can be
// checked to resume this session's own: the session id of the FTP session.
void TagTlsSession(SSL* ssl, uint64_t owner);
// The tag of the session `ssl` resumed (false when none is there).
bool TlsSessionTag(SSL* ssl, uint64_t* owner);

struct SelfSigned {
  std::string cert;         // PEM
  std::string key;          // PEM (PKCS#8)
  std::string fingerprint;  // SHA-256 of the DER certificate, "AB:CD:..."
};

// An ECDSA P-256 certificate for `common_name` (SAN: it, 127.0.0.1 and ::1),
// valid from an hour ago for a year: 0, or -EINVAL with `error` set.
int MakeSelfSignedCertificate(const std::string& common_name, SelfSigned* out, std::string* error);

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_TLS_CONTEXT_H_
