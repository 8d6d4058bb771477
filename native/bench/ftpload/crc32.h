// CRC-32 (IEEE 802.3, the polynomial of zlib and of `crc32` the command):
// what --checksum compares a download with.
#ifndef MUXFTPD_BENCH_FTPLOAD_CRC32_H_
#define MUXFTPD_BENCH_FTPLOAD_CRC32_H_

#include <cstddef>
#include <cstdint>

namespace muxftpd::ftpload {

// The CRC of the bytes so far (0 before the first) extended by p[0..n).
uint32_t Crc32Update(uint32_t crc, const unsigned char* p, size_t n);

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_CRC32_H_
