// The shared passive pool's memory of ended reservations: a host whose
// reservation of a port ended (claimed, released) is late on that port for
// kLateWindowMs and no longer; the ring keeps the last four hosts of a port
// only. (Whether a late host counts as late while another host waits on the
// port is the worker's rule: middlebox-truth.test.ts.)
#include "../engine/passive.h"

#include <sys/epoll.h>

#include <memory>
#include <string>
#include <vector>

#include "check.h"

using muxftpd::PassivePool;
using muxftpd::PassivePort;
using muxftpd::Session;
using muxftpd::SockAddr;
using muxftpd::UniqueFd;

namespace {

SockAddr Addr(const std::string& host, uint16_t port = 40000) {
  SockAddr a;
  CHECK(SockAddr::Parse(host, port, &a));
  return a;
}

std::unique_ptr<Session> SessionFrom(uint32_t sid, const std::string& host) {
  return std::make_unique<Session>(sid, UniqueFd(), Addr(host), Addr("127.0.0.1", 2121), 512);
}

}  // namespace

int main() {
  UniqueFd epfd(epoll_create1(EPOLL_CLOEXEC));
  CHECK(epfd.Valid());
  // One port, so every reservation lands on it; below the ephemeral range,
  // and another if that one is taken.
  std::unique_ptr<PassivePool> pool;
  int port = -1;
  auto a = SessionFrom(1, "127.0.0.2");
  for (uint16_t p = 10007; p < 32000 && port < 0; p += 509) {
    pool = std::make_unique<PassivePool>("127.0.0.1", p, p, 0, 1);
    port = pool->Reserve(a.get(), epfd.Get());
  }
  CHECK(port > 0);
  PassivePort* listener = a->passive;
  CHECK(listener != nullptr);

  // Waiting is not ended: not late.
  CHECK(!PassivePool::EndedLately(*listener, Addr("127.0.0.2"), 1000));
  // Claimed at t=1000: late from then until the window closes, for that host only.
  CHECK(pool->Claim(listener, Addr("127.0.0.2", 51000), 1000) == a.get());
  CHECK(a->passive == nullptr);
  CHECK(PassivePool::EndedLately(*listener, Addr("127.0.0.2", 51001), 1000));
  CHECK(PassivePool::EndedLately(*listener, Addr("127.0.0.2"), 1000 + PassivePool::kLateWindowMs));
  CHECK(!PassivePool::EndedLately(*listener, Addr("127.0.0.2"), 1001 + PassivePool::kLateWindowMs));
  CHECK(!PassivePool::EndedLately(*listener, Addr("127.0.0.3"), 1000));
  // A stranger claims nothing.
  CHECK(pool->Claim(listener, Addr("127.0.0.9"), 1000) == nullptr);

  // Released (a second PASV, a close) at t=2000: late too, the time renewed, not a second entry.
  CHECK(pool->Reserve(a.get(), epfd.Get()) == port);
  pool->Release(a.get(), 2000);
  CHECK(a->passive == nullptr);
  CHECK(PassivePool::EndedLately(*listener, Addr("127.0.0.2"), 1500 + PassivePool::kLateWindowMs));

  // Four more hosts end their reservations: the ring holds four, so the first host is forgotten.
  std::vector<std::unique_ptr<Session>> others;
  for (int i = 0; i < 4; ++i) {
    others.push_back(SessionFrom(10 + i, "127.0.1." + std::to_string(i + 1)));
    CHECK(pool->Reserve(others.back().get(), epfd.Get()) == port);
    pool->Release(others.back().get(), 3000 + i);
  }
  for (int i = 0; i < 4; ++i) CHECK(PassivePool::EndedLately(*listener, Addr("127.0.1." + std::to_string(i + 1)), 3010));
  CHECK(!PassivePool::EndedLately(*listener, Addr("127.0.0.2"), 3010));
  // Releasing a session with no reservation changes nothing.
  pool->Release(a.get(), 4000);
  CHECK(!PassivePool::EndedLately(*listener, Addr("127.0.0.2"), 4000));
  std::puts("passive_pool_test: ok");
  return 0;
}
