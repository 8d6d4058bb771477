// Die: the one way ftpload gives up. Only for what makes a run meaningless
// (a bad flag, an unreadable expected file, an epoll call failing); a failure
// of one session is counted as an error of that session instead.
#ifndef MUXFTPD_BENCH_FTPLOAD_FATAL_H_
#define MUXFTPD_BENCH_FTPLOAD_FATAL_H_

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace muxftpd::ftpload {

// Prints "ftpload: <message>" and exits with status 2.
[[noreturn]] inline void Die(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

inline void Die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "ftpload: ");
  std::vfprintf(stderr, fmt, ap);
  std::fprintf(stderr, "\n");
  va_end(ap);
  std::exit(2);
}

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_FATAL_H_
