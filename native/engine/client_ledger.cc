#include "client_ledger.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

namespace muxftpd {

namespace {

constexpr uint64_t kMagic = 0x3147444c58554d00;  // "\0MUXLDG1", a layout's version in its last byte
constexpr uint32_t kMinSlots = 8;
constexpr uint32_t kNoSlot = UINT32_MAX;
constexpr size_t kKeySize = 16;

// The steps of one change to the table must reach memory in program order,
// so that a process killed between two of them leaves what Repair expects.
// A compiler barrier is enough: the killed process's stores are not lost,
// and the next owner takes the mutex (a full barrier) before reading them.
void InOrder() { std::atomic_signal_fence(std::memory_order_seq_cst); }

// 16 bytes: IPv6 as is, IPv4 in its IPv4-mapped IPv6 form (::ffff:a.b.c.d),
// so a dual-stack listener's v4-mapped clients count as the IPv4 address.
void KeyOf(const SockAddr& addr, uint8_t* key) {
  if (addr.Family() == AF_INET) {
    std::memset(key, 0, 10);
    key[10] = key[11] = 0xff;
    std::memcpy(key + 12, &addr.storage.in4.sin_addr, 4);
  } else {
    std::memcpy(key, &addr.storage.in6.sin6_addr, kKeySize);
  }
}

uint32_t SlotsFor(uint32_t max_clients) {
  uint32_t capacity = std::clamp<uint32_t>(max_clients, 1, ClientLedger::kMaxAddresses);
  uint32_t slots = kMinSlots;
  while (slots / 2 < capacity) slots <<= 1;
  return slots;
}

}  // namespace

// The segment: this header, then `slots` Slots. Only the mutex's holder
// reads or writes past `seed`; magic, slots, capacity and seed are fixed at
// creation.
struct ClientLedger::Header {
  uint64_t magic;
  uint32_t header_size;  // sizeof(Header) where it was made
  uint32_t slots;        // a power of two
  uint32_t capacity;     // distinct addresses at most: slots / 2 or fewer
  uint32_t used;         // distinct addresses counted now
  uint32_t total;        // connections admitted and not released
  uint32_t reserved;
  uint64_t seed[2];
  pthread_mutex_t mutex;
};

struct ClientLedger::Slot {
  uint8_t key[kKeySize];
  uint32_t count;  // 0: empty
};

class ClientLedger::Lock {
 public:
  explicit Lock(ClientLedger* ledger) : mutex_(&ledger->header_->mutex) {
    int r = pthread_mutex_lock(mutex_);
    if (r == EOWNERDEAD) {
      // Its owner died in the middle: the lock is ours, the table may be half changed.
      ledger->Repair();
      pthread_mutex_consistent(mutex_);
      r = 0;
    }
    // ENOTRECOVERABLE (a repairer died before marking it consistent, which
    // this code never leaves undone): nothing can be counted any more.
    held_ = r == 0;
  }
  ~Lock() {
    if (held_) pthread_mutex_unlock(mutex_);
  }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  bool held() const { return held_; }

 private:
  pthread_mutex_t* mutex_;
  bool held_;
};

int ClientLedger::CreateSegment(uint32_t max_clients) {
  uint32_t slots = SlotsFor(max_clients);
  uint64_t size = sizeof(Header) + uint64_t{slots} * sizeof(Slot);
  int fd = sys::SharedMemory("muxftpd-clients", size);
  if (fd < 0) return fd;
  UniqueFd owned(fd);
  void* base = nullptr;
  int r = sys::MapShared(fd, size, &base);
  if (r < 0) return r;
  auto* h = static_cast<Header*>(base);  // zeroed by ftruncate: every slot empty
  h->header_size = sizeof(Header);
  h->slots = slots;
  h->capacity = std::min(slots / 2, kMaxAddresses);
  r = sys::RandomBytes(h->seed, sizeof h->seed);
  pthread_mutexattr_t attr;
  if (r == 0) r = -pthread_mutexattr_init(&attr);
  if (r == 0) {
    r = -pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (r == 0) r = -pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (r == 0) r = -pthread_mutex_init(&h->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  if (r == 0) h->magic = kMagic;  // last: a segment without it is refused by Attach
  sys::Unmap(base, size);
  return r < 0 ? r : owned.Release();
}

int ClientLedger::Attach(int fd, Limits limits, std::unique_ptr<ClientLedger>* out) {
  uint64_t size = 0;
  bool regular = false;
  int r = sys::FileSize(fd, &size, &regular);
  if (r < 0) return r;
  if (!regular || size < sizeof(Header)) return -EINVAL;
  void* base = nullptr;
  if ((r = sys::MapShared(fd, size, &base)) < 0) return r;
  std::unique_ptr<ClientLedger> ledger(new ClientLedger(base, size, limits));  // unmaps on return
  const Header& h = *ledger->header_;
  bool valid = h.magic == kMagic && h.header_size == sizeof(Header) && h.slots >= kMinSlots &&
               (h.slots & (h.slots - 1)) == 0 && size == sizeof(Header) + uint64_t{h.slots} * sizeof(Slot) &&
               h.capacity <= h.slots / 2;
  if (!valid) return -EINVAL;
  *out = std::move(ledger);
  return 0;
}

int ClientLedger::CreatePrivate(Limits limits, std::unique_ptr<ClientLedger>* out) {
  int fd = CreateSegment(limits.max_clients);
  if (fd < 0) return fd;
  UniqueFd segment(fd);  // the mapping is all this process needs
  return Attach(segment.Get(), limits, out);
}

ClientLedger::ClientLedger(void* base, uint64_t size, Limits limits)
    : base_(base), size_(size), header_(static_cast<Header*>(base)), limits_(limits) {}

ClientLedger::~ClientLedger() { sys::Unmap(base_, size_); }

ClientLedger::Slot* ClientLedger::Slots() const {
  return reinterpret_cast<Slot*>(static_cast<char*>(base_) + sizeof(Header));
}

uint32_t ClientLedger::Mask() const { return header_->slots - 1; }

uint64_t ClientLedger::Home(const uint8_t* key) const {
  uint64_t lo, hi;
  std::memcpy(&lo, key, 8);
  std::memcpy(&hi, key + 8, 8);
  // wyhash's multiply-and-fold, keyed: not a cryptographic hash, but chains
  // a client cannot aim for without the seed.
  __uint128_t m = static_cast<__uint128_t>(lo ^ header_->seed[0]) * (hi ^ header_->seed[1]);
  return (static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64)) & Mask();
}

uint32_t ClientLedger::Find(const uint8_t* key, bool* found) const {
  const Slot* slots = Slots();
  uint32_t i = static_cast<uint32_t>(Home(key));
  // At most one lap: a well-formed table always has an empty slot to stop at.
  for (uint32_t n = 0; n < header_->slots; ++n, i = (i + 1) & Mask()) {
    if (slots[i].count == 0) {
      *found = false;
      return i;
    }
    if (std::memcmp(slots[i].key, key, kKeySize) == 0) {
      *found = true;
      return i;
    }
  }
  *found = false;
  return kNoSlot;
}

// Backward-shift deletion: each later entry of the chain that the hole lies
// on the way to (between its home slot and where it sits) moves into the
// hole, which moves on to where it was; the chain ends at an empty slot. A
// move writes the key into the empty hole first, then its count (from here
// the entry is there twice, alike), then empties the old slot: a death
// leaves no half-written entry, at worst one duplicate, which Repair drops.
void ClientLedger::Erase(uint32_t index) {
  Slot* slots = Slots();
  const uint32_t mask = Mask();
  uint32_t hole = index;
  slots[hole].count = 0;
  InOrder();
  for (uint32_t j = (hole + 1) & mask; slots[j].count != 0; j = (j + 1) & mask) {
    uint32_t home = static_cast<uint32_t>(Home(slots[j].key));
    if (((j - home) & mask) < ((j - hole) & mask)) continue;  // the hole is before its home
    std::memcpy(slots[hole].key, slots[j].key, kKeySize);
    InOrder();
    slots[hole].count = slots[j].count;
    InOrder();
    slots[j].count = 0;
    InOrder();
    hole = j;
  }
  header_->used -= 1;
}

ClientLedger::Verdict ClientLedger::Admit(const SockAddr& peer) {
  Lock lock(this);
  if (!lock.held()) return Verdict::kTooMany;
  Header& h = *header_;
  if (h.total >= limits_.max_clients) return Verdict::kTooMany;
  if (limits_.max_per_ip != 0) {
    uint8_t key[kKeySize];
    KeyOf(peer, key);
    bool found = false;
    uint32_t i = Find(key, &found);
    if (found) {
      if (Slots()[i].count >= limits_.max_per_ip) return Verdict::kTooManyFromAddress;
      Slots()[i].count += 1;
    } else {
      if (i == kNoSlot || h.used >= h.capacity) return Verdict::kTooMany;  // the table is full
      Slot& s = Slots()[i];
      std::memcpy(s.key, key, kKeySize);
      InOrder();
      s.count = 1;
      h.used += 1;
    }
    InOrder();
  }
  h.total += 1;
  return Verdict::kOk;
}

void ClientLedger::Release(const SockAddr& peer) {
  Lock lock(this);
  if (!lock.held()) return;
  if (limits_.max_per_ip != 0) {
    uint8_t key[kKeySize];
    KeyOf(peer, key);
    bool found = false;
    uint32_t i = Find(key, &found);
    if (found && Slots()[i].count > 1) {
      Slots()[i].count -= 1;
    } else if (found) {
      Erase(i);
    }
    InOrder();
  }
  if (header_->total > 0) header_->total -= 1;
}

// Rebuilds the table from its live entries after a death under the mutex:
// chains a half-done Erase broke are mended, its duplicate dropped, `used`
// recounted and (counting addresses) the total made their sum again.
void ClientLedger::Repair() {
  Slot* slots = Slots();
  std::vector<Slot> live;
  for (uint32_t i = 0; i < header_->slots; ++i) {
    if (slots[i].count != 0) live.push_back(slots[i]);
  }
  auto key_less = [](const Slot& a, const Slot& b) { return std::memcmp(a.key, b.key, kKeySize) < 0; };
  auto key_equal = [](const Slot& a, const Slot& b) { return std::memcmp(a.key, b.key, kKeySize) == 0; };
  std::sort(live.begin(), live.end(), key_less);
  live.erase(std::unique(live.begin(), live.end(), key_equal), live.end());
  std::memset(static_cast<void*>(slots), 0, uint64_t{header_->slots} * sizeof(Slot));
  uint64_t sum = 0;
  uint32_t used = 0;
  for (const Slot& entry : live) {
    bool found = false;
    uint32_t i = Find(entry.key, &found);
    if (i == kNoSlot || used >= header_->capacity) break;
    slots[i] = entry;
    sum += entry.count;
    ++used;
  }
  header_->used = used;
  if (limits_.max_per_ip != 0) header_->total = static_cast<uint32_t>(sum);
}

uint32_t ClientLedger::Total() {
  Lock lock(this);
  return header_->total;
}

uint32_t ClientLedger::CountOf(const SockAddr& peer) {
  Lock lock(this);
  uint8_t key[kKeySize];
  KeyOf(peer, key);
  bool found = false;
  uint32_t i = Find(key, &found);
  return found ? Slots()[i].count : 0;
}

bool ClientLedger::Consistent() {
  Lock lock(this);
  if (!lock.held()) return false;
  const Slot* slots = Slots();
  uint32_t live = 0;
  uint64_t sum = 0;
  for (uint32_t i = 0; i < header_->slots; ++i) {
    if (slots[i].count == 0) continue;
    bool found = false;
    if (Find(slots[i].key, &found) != i) return false;  // unreachable, or a duplicate
    ++live;
    sum += slots[i].count;
  }
  return live == header_->used && (limits_.max_per_ip == 0 || sum == header_->total);
}

void ClientLedger::RunLocked(const std::function<void()>& fn) {
  Lock lock(this);
  if (lock.held()) fn();
}

}  // namespace muxftpd
