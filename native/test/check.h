// A minimal assertion harness for the standalone native tests.
#ifndef MUXFTPD_TEST_CHECK_H_
#define MUXFTPD_TEST_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define CHECK(cond)                                                             \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::exit(1);                                                             \
    }                                                                           \
  } while (0)

#endif  // MUXFTPD_TEST_CHECK_H_
