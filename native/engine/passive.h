// The shared passive listener pool for a configured port range.
//
// One listening socket per port serves many sessions at once, as long as they
// come from different client hosts: a connection is handed to the session
// that reserved that port for that host (what libunftp and ftpserverlib added
// once their users ran out of ports). With N source addresses, a range of P
// ports therefore carries N×P passive setups at once. Each worker owns every
// worker_count-th port of the range, so workers never share a listener.
#ifndef MUXFTPD_ENGINE_PASSIVE_H_
#define MUXFTPD_ENGINE_PASSIVE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "session.h"
#include "sys.h"

namespace muxftpd {

// A client host: family and address bytes, the port ignored.
struct HostKey {
  std::array<uint8_t, 17> bytes{};
  bool operator==(const HostKey& o) const { return bytes == o.bytes; }
  static HostKey Of(const SockAddr& addr);
};

struct HostKeyHash {
  size_t operator()(const HostKey& k) const;
};

// A host whose reservation of a port ended (its connection came, the session
// asked for another port, or it closed), and when.
struct EndedReservation {
  HostKey host;
  uint64_t at_ms = 0;
};

struct PassivePort {
  UniqueFd fd;
  uint16_t port = 0;
  IoHandle handle{IoHandle::Kind::kPoolListener, nullptr, this};
  std::unordered_map<HostKey, Session*, HostKeyHash> waiting;
  // The last few hosts whose reservation here ended: a connection from one of
  // them that no session waits for is late (a client that connected twice, or
  // after a second PASV or its QUIT), not foreign. A ring, so a port that many
  // hosts use holds no more than this.
  std::array<EndedReservation, 4> ended{};
  size_t next_ended = 0;
};

class PassivePool {
 public:
  // `host` is the control listener's address: a specific one confines the
  // passive listeners to it too; "::" or "0.0.0.0" means every interface.
  PassivePool(const std::string& host, uint16_t min, uint16_t max, int worker_index,
              int worker_count);

  // Reserves a port of this worker's share for the session's client host,
  // opening its listener (registered with epfd) on first use. Returns the
  // port, or -EADDRINUSE when every port already waits for that host.
  int Reserve(Session* s, int epfd);
  // Forgets the session's reservation, if it has one.
  void Release(Session* s, uint64_t now_ms);
  // The session that reserved `port` for `peer`'s host (and releases it), or
  // nullptr for anyone else: a port thief, or a client that gave up.
  Session* Claim(PassivePort* port, const SockAddr& peer, uint64_t now_ms);
  // Whether a reservation of `port` for `peer`'s host ended within
  // kLateWindowMs: an unclaimed connection from it is late, not foreign.
  static bool EndedLately(const PassivePort& port, const SockAddr& peer, uint64_t now_ms);

  // How long after a reservation ends a connection from its host counts as
  // late: a client connects within moments of its PASV reply, so a minute
  // covers a slow client and a full listen queue, and a host that stayed
  // away longer is treated as any other.
  static constexpr uint64_t kLateWindowMs = 60000;

 private:
  int Open(PassivePort* p, int family, int epfd);
  static void Ended(PassivePort* port, const HostKey& host, uint64_t now_ms);

  std::string host_;
  std::vector<uint16_t> ports_;  // this worker's share of the range
  size_t cursor_ = 0;
  // Keyed by family and port: IPv4 and IPv6 clients get separate sockets.
  std::unordered_map<uint32_t, std::unique_ptr<PassivePort>> listeners_;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_PASSIVE_H_
