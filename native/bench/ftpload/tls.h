// TLS for ftpload (--tls explicit|implicit, RFC 4217): one client context per
// process, one SSL per control and per data connection, all non-blocking in
// the workers' epoll loops. A stress client: the server's certificate is not
// verified. Data connections resume the FTP session's TLS session (the
// latest the server issued on it: with TLS 1.2 the control connection's own,
// with TLS 1.3 its tickets, which arrive after the handshake and are read
// with the replies that follow), as vsftpd's and proftpd's require_ssl_reuse
// demand.
//
// Built with OpenSSL when the build found libssl-dev (FTPLOAD_TLS=1, see
// native/bench/openssl-probe.mjs); without it every call here is unreachable,
// since --tls ends the run first with kTlsUnavailable.
#ifndef MUXFTPD_BENCH_FTPLOAD_TLS_H_
#define MUXFTPD_BENCH_FTPLOAD_TLS_H_

#include <sys/types.h>

#include <string>

struct ssl_st;
struct ssl_session_st;

namespace muxftpd::ftpload {

enum class TlsMode { kOff, kExplicit, kImplicit };
const char* TlsModeName(TlsMode m);

// Results of the calls below besides byte counts (chosen far from -errno values).
constexpr ssize_t kTlsWantRead = -100001;
constexpr ssize_t kTlsWantWrite = -100002;
constexpr ssize_t kTlsFailed = -100003;

// Whether this ftpload was built with OpenSSL; if not, why --tls cannot run.
bool TlsAvailable();
extern const char kTlsUnavailable[];

// Who is told of the TLS sessions (tickets) a server issues on a connection:
// the FTP session that owns it. Set with TlsNew.
struct TlsSessionSink {
  ssl_session_st* latest = nullptr;  // owned; the one the next data connection resumes
  uint64_t issued = 0;               // how many the server issued on this FTP session
};

// The process's client context: version 12 or 13 (TLS 1.2 or 1.3 only).
// Once, before the workers start; dies on failure.
void TlsInit(int version);
// The OpenSSL library version ftpload runs with (the summary records it).
std::string TlsLibraryVersion();

// A TLS client on the connected socket `fd`, resuming `sink->latest` if set;
// new sessions the server issues go to `sink`. nullptr on failure.
ssl_st* TlsNew(int fd, TlsSessionSink* sink);
// One step of the handshake: 1 when done, else kTlsWantRead/Write or kTlsFailed.
ssize_t TlsHandshake(ssl_st* ssl);
// Whether the finished handshake resumed a session.
bool TlsResumed(ssl_st* ssl);
// >0 bytes, 0 = the peer closed (close_notify or EOF), kTlsWant*, kTlsFailed.
ssize_t TlsRead(ssl_st* ssl, void* buf, size_t len);
// >0 bytes written (a partial write is allowed), kTlsWant*, kTlsFailed. A
// retry after kTlsWant* passes the same bytes again (the buffer may move, not shrink).
ssize_t TlsWrite(ssl_st* ssl, const void* buf, size_t len);
// Plaintext already decrypted and not read yet (level-triggered epoll does not see it).
int TlsPending(ssl_st* ssl);
// Sends close_notify (once, best effort: no wait for the peer's) and frees.
void TlsClose(ssl_st*& ssl);
// Frees without a close_notify (the connection is being dropped).
void TlsFree(ssl_st*& ssl);
void TlsForget(TlsSessionSink& sink);
// The reason of this thread's last failure as an error-kind word ("wrong_version_number").
std::string TlsErrorWord();

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_TLS_H_
