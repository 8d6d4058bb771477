// The client ledger: exact counts against both limits, IPv4-mapped addresses
// counted as IPv4, a full table answered kTooMany, deletions that keep every
// chain whole (against a model), several processes hammering one segment
// (exact totals and per-address counts after), and processes killed while
// holding its mutex (the next one repairs the table and goes on).
#include "../engine/client_ledger.h"

#include <arpa/inet.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "check.h"

using muxftpd::ClientLedger;
using muxftpd::SockAddr;
using muxftpd::UniqueFd;
using Verdict = ClientLedger::Verdict;

namespace {

SockAddr Addr(const std::string& host) {
  SockAddr a;
  CHECK(SockAddr::Parse(host, 21, &a));
  return a;
}

// Address i of a pool: IPv4 for even i, IPv6 for odd, so both kinds share the table.
SockAddr PoolAddr(uint32_t i) {
  if (i % 2 == 0) return Addr("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  return Addr("2001:db8::" + std::to_string(i));
}

std::unique_ptr<ClientLedger> Open(int fd, uint32_t max_clients, uint32_t max_per_ip) {
  std::unique_ptr<ClientLedger> ledger;
  CHECK(ClientLedger::Attach(fd, {max_clients, max_per_ip}, &ledger) == 0);
  return ledger;
}

uint64_t Next(uint64_t* state) {  // xorshift64
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

void BothLimits() {
  std::unique_ptr<ClientLedger> l;
  CHECK(ClientLedger::CreatePrivate({5, 2}, &l) == 0);
  SockAddr a = Addr("192.0.2.1");
  CHECK(l->Admit(a) == Verdict::kOk);
  // The same client over a dual-stack listener, before the engine folds it.
  SockAddr mapped;  // as accept4 reports it, not folded to IPv4
  mapped.storage.in6.sin6_family = AF_INET6;
  CHECK(inet_pton(AF_INET6, "::ffff:192.0.2.1", &mapped.storage.in6.sin6_addr) == 1);
  mapped.len = sizeof mapped.storage.in6;
  CHECK(l->Admit(mapped) == Verdict::kOk);
  CHECK(l->Admit(a) == Verdict::kTooManyFromAddress);
  CHECK(l->CountOf(a) == 2 && l->Total() == 2);
  CHECK(l->Admit(Addr("2001:db8::1")) == Verdict::kOk);
  CHECK(l->Admit(Addr("2001:db8::1")) == Verdict::kOk);
  CHECK(l->Admit(Addr("192.0.2.2")) == Verdict::kOk);
  CHECK(l->Admit(Addr("192.0.2.3")) == Verdict::kTooMany);  // five open
  CHECK(l->Total() == 5);
  l->Release(a);
  CHECK(l->CountOf(a) == 1 && l->Total() == 4);
  CHECK(l->Admit(Addr("192.0.2.3")) == Verdict::kOk);
  l->Release(mapped);
  CHECK(l->CountOf(a) == 0 && l->Total() == 4);
  CHECK(l->Consistent());
}

void TotalOnlyWithoutPerAddressLimit() {
  std::unique_ptr<ClientLedger> l;
  CHECK(ClientLedger::CreatePrivate({3, 0}, &l) == 0);
  SockAddr a = Addr("192.0.2.1");
  for (int i = 0; i < 3; ++i) CHECK(l->Admit(a) == Verdict::kOk);
  CHECK(l->Admit(Addr("192.0.2.9")) == Verdict::kTooMany);
  CHECK(l->CountOf(a) == 0 && l->Total() == 3);  // no addresses counted
  for (int i = 0; i < 3; ++i) l->Release(a);
  CHECK(l->Total() == 0 && l->Consistent());
}

void FullTableIsTooMany() {
  UniqueFd fd(ClientLedger::CreateSegment(4));  // room for 4 addresses
  CHECK(fd.Valid());
  auto l = Open(fd.Get(), 100, 2);
  for (uint32_t i = 0; i < 4; ++i) CHECK(l->Admit(PoolAddr(i)) == Verdict::kOk);
  CHECK(l->Admit(PoolAddr(4)) == Verdict::kTooMany);
  CHECK(l->Admit(PoolAddr(0)) == Verdict::kOk);  // an address already there still gets in
  l->Release(PoolAddr(1));
  CHECK(l->Admit(PoolAddr(4)) == Verdict::kOk);
  CHECK(l->Total() == 5 && l->Consistent());
}

void AttachRefusesWhatIsNoSegment() {
  std::unique_ptr<ClientLedger> l;
  UniqueFd other(memfd_create("not-a-ledger", MFD_CLOEXEC));
  CHECK(ftruncate(other.Get(), 4096) == 0);
  CHECK(ClientLedger::Attach(other.Get(), {1, 0}, &l) == -EINVAL);
  CHECK(ClientLedger::Attach(-1, {1, 0}, &l) == -EBADF);
  CHECK(l == nullptr);
  // The mapping outlives the fd.
  UniqueFd fd(ClientLedger::CreateSegment(8));
  auto kept = Open(fd.Get(), 8, 1);
  fd.Reset();
  CHECK(kept->Admit(PoolAddr(7)) == Verdict::kOk && kept->Total() == 1);
}

// Random admits and releases against a std::map, in a table kept nearly
// full, so that chains are long and deletions shift entries back often.
void ChurnMatchesModel() {
  UniqueFd fd(ClientLedger::CreateSegment(64));
  auto l = Open(fd.Get(), 1000, 3);
  std::map<uint32_t, uint32_t> model;
  uint32_t total = 0;
  uint64_t rng = 42;
  for (int op = 0; op < 200000; ++op) {
    uint32_t i = static_cast<uint32_t>(Next(&rng) % 200);
    auto it = model.find(i);
    if (Next(&rng) % 2 == 0) {
      Verdict expected = total >= 1000                          ? Verdict::kTooMany
                         : it != model.end() && it->second >= 3 ? Verdict::kTooManyFromAddress
                         : it == model.end() && model.size() >= 64 ? Verdict::kTooMany
                                                                   : Verdict::kOk;
      CHECK(l->Admit(PoolAddr(i)) == expected);
      if (expected == Verdict::kOk) {
        ++model[i];
        ++total;
      }
    } else if (it != model.end()) {
      l->Release(PoolAddr(i));
      if (--it->second == 0) model.erase(it);
      --total;
    }
    if (op % 10000 == 0) CHECK(l->Consistent());
  }
  CHECK(l->Consistent() && l->Total() == total);
  for (uint32_t i = 0; i < 200; ++i) CHECK(l->CountOf(PoolAddr(i)) == (model.count(i) ? model[i] : 0));
}

constexpr int kProcesses = 4;
constexpr uint32_t kPool = 100;
constexpr uint32_t kMaxClients = 200;
constexpr uint32_t kMaxPerIp = 4;

// One hammering process: random admits and releases of its own clients;
// `held` (shared memory) ends as what it still holds per address.
void Hammer(ClientLedger* l, uint32_t* held, uint64_t seed, int ops) {
  for (int op = 0; op < ops; ++op) {
    uint32_t i = static_cast<uint32_t>(Next(&seed) % kPool);
    if (Next(&seed) % 3 != 0) {
      if (l->Admit(PoolAddr(i)) == Verdict::kOk) {
        ++held[i];
        CHECK(l->CountOf(PoolAddr(i)) <= kMaxPerIp);
      }
    } else if (held[i] > 0) {
      l->Release(PoolAddr(i));
      --held[i];
    }
  }
}

// kProcesses processes, each mapping the segment itself from the fd it
// inherited and hammering it with its own seed; `held` gets a row each.
std::vector<pid_t> StartHammers(int fd, uint32_t* held, uint64_t seed, int ops) {
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      auto l = Open(fd, kMaxClients, kMaxPerIp);
      Hammer(l.get(), held + p * kPool, seed * (p + 1), ops);
      _exit(0);
    }
    pids.push_back(pid);
  }
  return pids;
}

uint32_t* SharedCounts() {
  void* p = mmap(nullptr, sizeof(uint32_t) * kPool * kProcesses, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK(p != MAP_FAILED);
  return static_cast<uint32_t*>(p);
}

void ProcessesCountExactly() {
  // Room for 64 addresses: the table fills too, besides both limits.
  UniqueFd fd(ClientLedger::CreateSegment(64));
  uint32_t* held = SharedCounts();
  std::vector<pid_t> pids = StartHammers(fd.Get(), held, 1000003u, 30000);
  for (pid_t pid : pids) {
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto l = Open(fd.Get(), kMaxClients, kMaxPerIp);
  uint32_t total = 0;
  for (uint32_t i = 0; i < kPool; ++i) {
    uint32_t sum = 0;
    for (int p = 0; p < kProcesses; ++p) sum += held[p * kPool + i];
    CHECK(l->CountOf(PoolAddr(i)) == sum);
    CHECK(sum <= kMaxPerIp);
    total += sum;
  }
  std::printf("client_ledger_test: %u held by %d processes at the end\n", total, kProcesses);
  CHECK(l->Total() == total && total <= kMaxClients);
  CHECK(l->Consistent());
  munmap(held, sizeof(uint32_t) * kPool * kProcesses);
}

void DeathHoldingTheMutex() {
  UniqueFd fd(ClientLedger::CreateSegment(16));
  auto l = Open(fd.Get(), 16, 2);
  CHECK(l->Admit(PoolAddr(1)) == Verdict::kOk);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    l->RunLocked([] { raise(SIGKILL); });
    _exit(1);
  }
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  // EOWNERDEAD: repaired, marked consistent, and counted on as before.
  CHECK(l->Admit(PoolAddr(2)) == Verdict::kOk);
  CHECK(l->Total() == 2 && l->CountOf(PoolAddr(1)) == 1 && l->Consistent());
  l->Release(PoolAddr(1));
  l->Release(PoolAddr(2));
  CHECK(l->Total() == 0 && l->Consistent());
}

// Processes killed at random points, most of them inside the mutex: every
// round the survivors' next lock repairs whatever was half changed.
void DeathsMidChange() {
  UniqueFd fd(ClientLedger::CreateSegment(32));
  uint32_t* held = SharedCounts();
  for (int round = 0; round < 20; ++round) {
    std::vector<pid_t> pids = StartHammers(fd.Get(), held, 7919u * (round + 1), 1 << 30);
    usleep(2000 + 1000 * round);
    for (pid_t pid : pids) kill(pid, SIGKILL);
    for (pid_t pid : pids) CHECK(waitpid(pid, nullptr, 0) == pid);
    auto l = Open(fd.Get(), kMaxClients, kMaxPerIp);
    CHECK(l->Consistent());
    CHECK(l->Total() <= kMaxClients);
  }
  // It still counts exactly: empty it (what the dead held is unknown, so
  // read it back), then fill one address to its limit.
  auto l = Open(fd.Get(), kMaxClients, kMaxPerIp);
  for (uint32_t i = 0; i < kPool; ++i) {
    for (uint32_t n = l->CountOf(PoolAddr(i)); n > 0; --n) l->Release(PoolAddr(i));
  }
  CHECK(l->Total() == 0 && l->Consistent());
  for (uint32_t n = 0; n < kMaxPerIp; ++n) CHECK(l->Admit(PoolAddr(3)) == Verdict::kOk);
  CHECK(l->Admit(PoolAddr(3)) == Verdict::kTooManyFromAddress);
  munmap(held, sizeof(uint32_t) * kPool * kProcesses);
}

}  // namespace

int main() {
  for (void (*test)() : {BothLimits, TotalOnlyWithoutPerAddressLimit, FullTableIsTooMany, AttachRefusesWhatIsNoSegment,
                         ChurnMatchesModel, ProcessesCountExactly, DeathHoldingTheMutex, DeathsMidChange}) {
    test();
  }
  std::printf("client_ledger_test: ok\n");
  return 0;
}
