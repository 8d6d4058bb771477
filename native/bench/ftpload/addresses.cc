#include "addresses.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstdlib>

namespace muxftpd::ftpload {

bool ParseHost(const std::string& host, uint16_t port, SockAddr* out) {
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return SockAddr::Parse(h, port, out);
}

namespace {

// The addresses lo..hi (IPv4, inclusive), port 0; false when either end is
// not IPv4 or lo > hi.
bool AppendRange(const std::string& lo_text, const std::string& hi_text,
                 std::vector<SockAddr>* out) {
  in_addr lo{}, hi{};
  if (inet_pton(AF_INET, lo_text.c_str(), &lo) != 1 ||
      inet_pton(AF_INET, hi_text.c_str(), &hi) != 1 || ntohl(lo.s_addr) > ntohl(hi.s_addr)) {
    return false;
  }
  for (uint32_t v = ntohl(lo.s_addr); v <= ntohl(hi.s_addr); v++) {
    SockAddr a;
    a.storage.in4.sin_family = AF_INET;
    a.storage.in4.sin_addr.s_addr = htonl(v);
    a.len = sizeof a.storage.in4;
    out->push_back(a);
    if (v == UINT32_MAX) break;
  }
  return true;
}

}  // namespace

bool ParseSources(const std::string& spec, std::vector<SockAddr>* out, std::string* bad) {
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string part =
        spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t dash = part.find('-');
    bool ok = true;
    if (dash != std::string::npos) {
      ok = AppendRange(part.substr(0, dash), part.substr(dash + 1), out);
    } else if (!part.empty()) {
      SockAddr a;
      ok = ParseHost(part, 0, &a);
      if (ok) out->push_back(a);
    }
    if (!ok) {
      *bad = part;
      return false;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return true;
}

int ParseEpsvPort(const std::string& line) {
  size_t p = line.find('(');
  if (p == std::string::npos || p + 4 >= line.size()) return -1;
  char d = line[p + 1];
  if (line[p + 2] != d || line[p + 3] != d) return -1;
  int port = std::atoi(line.c_str() + p + 4);
  return port > 0 && port < 65536 ? port : -1;
}

int ParsePasvPort(const std::string& line, std::string* host) {
  auto digit = [&](size_t i) { return isdigit(static_cast<unsigned char>(line[i])) != 0; };
  for (size_t i = 4; i < line.size(); i++) {
    if (!digit(i)) continue;
    int v[6];
    int k = 0;
    size_t j = i;
    while (k < 6) {
      if (j >= line.size() || !digit(j)) break;
      int x = 0;
      while (j < line.size() && digit(j)) x = x * 10 + (line[j++] - '0');
      if (x > 255) break;
      v[k++] = x;
      if (k < 6) {
        if (j >= line.size() || line[j] != ',') break;
        j++;
      }
    }
    if (k == 6) {
      if (host) {
        *host = std::to_string(v[0]) + "." + std::to_string(v[1]) + "." + std::to_string(v[2]) +
                "." + std::to_string(v[3]);
      }
      return v[4] * 256 + v[5];
    }
  }
  return -1;
}

std::string PortArgument(const SockAddr& a) {
  std::string ip = a.HostString();
  for (auto& c : ip) {
    if (c == '.') c = ',';
  }
  int port = a.Port();
  return ip + "," + std::to_string(port / 256) + "," + std::to_string(port % 256);
}

std::string EprtArgument(const SockAddr& a) {
  return "|" + std::string(a.Family() == AF_INET6 ? "2" : "1") + "|" + a.HostString() + "|" +
         std::to_string(a.Port()) + "|";
}

}  // namespace muxftpd::ftpload
