// The count of open control connections, in total and per client address,
// that --max-clients and --max-per-ip are checked against: one count for all
// the server's processes (issue 22: --processes N), with no round trip to
// another process when a client connects or leaves.
//
// Design. The counts live in a memory segment each process maps: a memfd
// (its fd handed to the other processes, which inherit it) holding a header
// and a table. One process-shared, robust pthread mutex guards all of it: a
// connect or a close costs one uncontended lock (no syscall) and a probe or
// two, against the microseconds an accept costs, and a lock is simpler to
// get exactly right than a lock-free table shared by processes. The table is
// open addressing with linear probing, keyed by the 16 bytes of the address
// (IPv4 as its IPv4-mapped IPv6 form, so both count as one client); deletion
// shifts later entries of the probe chain back (no tombstones, so a table
// that churns through addresses never fills with them). Its hash is keyed by
// a random seed, so clients choosing their addresses cannot aim for one chain.
//
// Capacity. At most max_clients distinct addresses can be open at once (each
// has a connection), so a segment holds that many, at a load of at most one
// half: chains stay short. Past kMaxAddresses (2^20 addresses, 40 MiB of
// table; the kernel backs only the pages touched) a segment holds no more,
// and a client from one more address is answered as past --max-clients
// (kTooMany), never a crash. Addresses are counted only with a per-address
// limit: without one, Admit and Release touch the total alone.
//
// A process that dies holding the mutex: the next locker gets EOWNERDEAD and
// rebuilds the table from its live entries (each step of a change is ordered
// so that a death leaves entries whole, at worst one duplicated; see
// client_ledger.cc), then marks the mutex consistent. What the dead process
// had admitted stays counted: its sessions are gone, but nothing says which
// they were, so a segment must not outlive a crashed process (the primary
// makes a new one when it starts its processes again).
#ifndef MUXFTPD_ENGINE_CLIENT_LEDGER_H_
#define MUXFTPD_ENGINE_CLIENT_LEDGER_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "sys.h"

namespace muxftpd {

class ClientLedger {
 public:
  enum class Verdict : uint8_t { kOk, kTooMany, kTooManyFromAddress };
  // This process's limits; several processes on one segment pass the same.
  struct Limits {
    uint32_t max_clients = 0;  // open connections over all processes
    uint32_t max_per_ip = 0;   // open connections from one address (0: no limit)
  };
  static constexpr uint32_t kMaxAddresses = 1u << 20;

  // A fresh, zeroed segment sized for max_clients: its fd (close-on-exec;
  // the caller owns it and closes it), or -errno.
  static int CreateSegment(uint32_t max_clients);
  // Maps the segment `fd` names (the fd stays the caller's; the mapping
  // outlives its close): 0 with *out set, -EINVAL when it is not a segment
  // CreateSegment made, or another -errno.
  static int Attach(int fd, Limits limits, std::unique_ptr<ClientLedger>* out);
  // A segment of this process's own (one process: the engine alone).
  static int CreatePrivate(Limits limits, std::unique_ptr<ClientLedger>* out);

  ~ClientLedger();
  ClientLedger(const ClientLedger&) = delete;
  ClientLedger& operator=(const ClientLedger&) = delete;

  // Counts a new connection from `peer`, or says which limit it would pass
  // (nothing is counted then). Any thread of any process.
  Verdict Admit(const SockAddr& peer);
  // An admitted connection from `peer` has ended. Exactly once per kOk.
  void Release(const SockAddr& peer);

  // For tests and checks: the open connections in total and from `peer`.
  uint32_t Total();
  uint32_t CountOf(const SockAddr& peer);
  // Whether the table is well formed: every entry found from its home slot,
  // no address twice, `used` and (counting addresses) the total matching it.
  bool Consistent();
  // For the native test of a death holding the mutex: runs fn under it.
  void RunLocked(const std::function<void()>& fn);

 private:
  struct Header;
  struct Slot;
  class Lock;

  ClientLedger(void* base, uint64_t size, Limits limits);
  Slot* Slots() const;
  uint32_t Mask() const;
  uint64_t Home(const uint8_t* key) const;
  // The slot holding key, or (found false) the empty slot ending its chain.
  uint32_t Find(const uint8_t* key, bool* found) const;
  void Erase(uint32_t index);
  void Repair();  // after EOWNERDEAD, under the mutex

  void* base_;
  uint64_t size_;
  Header* header_;
  const Limits limits_;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_CLIENT_LEDGER_H_
