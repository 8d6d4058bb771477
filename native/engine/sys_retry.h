// One rule for every syscall wrapper of sys.cc and sys_files.cc: an EINTR is
// retried, a failure becomes -errno.
#ifndef MUXFTPD_ENGINE_SYS_RETRY_H_
#define MUXFTPD_ENGINE_SYS_RETRY_H_

#include <cerrno>

namespace muxftpd {
namespace sys_internal {

template <typename F>
auto RetryEintr(F f) -> decltype(f()) {
  decltype(f()) r;
  do {
    r = f();
  } while (r == -1 && errno == EINTR);
  return r == -1 ? -errno : r;
}

}  // namespace sys_internal
}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_SYS_RETRY_H_
