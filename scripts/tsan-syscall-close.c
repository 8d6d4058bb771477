// Preloaded after libtsan by scripts/test-sanitized.sh thread (built there).
//
// node's libuv closes file descriptors with syscall(SYS_close, fd)
// (uv__close_nocancel), which ThreadSanitizer does not intercept: for TSan the
// fd stays open, and when the kernel hands its number out again (say to the
// addon's accept4 on the acceptor thread), TSan tears down the stale state on
// another thread with nothing ordering the two, and reports a race between,
// for example, node's socketpair() and muxftpd's accept4(). libuv built with
// TSan wraps that syscall in the sanitizer's close hooks; this does the same
// for the uninstrumented node, so TSan sees every close. Every other system
// call goes through unchanged.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <sys/syscall.h>

void __sanitizer_syscall_pre_impl_close(long fd);
void __sanitizer_syscall_post_impl_close(long res, long fd);

static long (*real_syscall)(long, ...);

__attribute__((constructor)) static void init(void) { real_syscall = dlsym(RTLD_NEXT, "syscall"); }

long syscall(long number, ...) {
  // As glibc's syscall(): six argument registers, whatever the call passed.
  va_list ap;
  va_start(ap, number);
  long a0 = va_arg(ap, long), a1 = va_arg(ap, long), a2 = va_arg(ap, long);
  long a3 = va_arg(ap, long), a4 = va_arg(ap, long), a5 = va_arg(ap, long);
  va_end(ap);
  if (number != SYS_close) return real_syscall(number, a0, a1, a2, a3, a4, a5);
  __sanitizer_syscall_pre_impl_close(a0);
  long res = real_syscall(SYS_close, a0);
  __sanitizer_syscall_post_impl_close(res, a0);
  return res;
}
