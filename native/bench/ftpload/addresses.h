// Addresses as ftpload reads and writes them: --host and --source on its
// command line; the data address in a 227/229 reply; the PORT and EPRT
// arguments of active mode. The socket address itself is the engine's
// SockAddr (native/engine/sys.h).
#ifndef MUXFTPD_BENCH_FTPLOAD_ADDRESSES_H_
#define MUXFTPD_BENCH_FTPLOAD_ADDRESSES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "native/engine/sys.h"

namespace muxftpd::ftpload {

// A numeric IPv4 or IPv6 address, the latter also in brackets ("[::1]").
bool ParseHost(const std::string& host, uint16_t port, SockAddr* out);

// "127.0.0.2-127.0.0.20" (an IPv4 range), "a,b,c", or one address; a list
// may mix both. On a bad part, false with that part in *bad.
bool ParseSources(const std::string& spec, std::vector<SockAddr>* out, std::string* bad);

// The port of "229 Entering Extended Passive Mode (|||port|)", or -1.
int ParseEpsvPort(const std::string& line);
// The port of "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)" (the
// parentheses are optional), or -1; with `host`, the address too
// ("h1.h2.h3.h4"), for --expect-pasv-address.
int ParsePasvPort(const std::string& line, std::string* host = nullptr);

// "h1,h2,h3,h4,p1,p2" for PORT; an IPv4 address only.
std::string PortArgument(const SockAddr& a);
// "|1|host|port|" or "|2|host|port|" for EPRT (RFC 2428).
std::string EprtArgument(const SockAddr& a);

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_ADDRESSES_H_
