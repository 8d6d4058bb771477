#include "passive.h"

#include <netinet/in.h>
#include <sys/epoll.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace muxftpd {

HostKey HostKey::Of(const SockAddr& addr) {
  HostKey k;
  k.bytes[0] = static_cast<uint8_t>(addr.Family());
  if (addr.Family() == AF_INET) {
    memcpy(&k.bytes[1], &addr.storage.in4.sin_addr, 4);
  } else {
    memcpy(&k.bytes[1], &addr.storage.in6.sin6_addr, 16);
  }
  return k;
}

size_t HostKeyHash::operator()(const HostKey& k) const {
  return std::hash<std::string_view>()(
      std::string_view(reinterpret_cast<const char*>(k.bytes.data()), k.bytes.size()));
}

PassivePool::PassivePool(const std::string& host, uint16_t min, uint16_t max, int worker_index,
                         int worker_count)
    : host_(host) {
  for (uint32_t p = min + worker_index; p <= max; p += worker_count) {
    ports_.push_back(static_cast<uint16_t>(p));
  }
}

int PassivePool::Open(PassivePort* p, int family, int epfd) {
  int fd = sys::TcpSocket(family);
  if (fd < 0) return fd;
  p->fd.Reset(fd);
  SockAddr addr;
  if (!SockAddr::Parse(host_, p->port, &addr) || addr.Family() != family || host_ == "::" ||
      host_ == "0.0.0.0") {
    SockAddr::Parse(family == AF_INET ? "0.0.0.0" : "::", p->port, &addr);
  }
  int r = sys::SetReuseAddr(fd);
  if (r == 0 && family == AF_INET6) r = sys::SetV6Only(fd, true);  // IPv4 clients have their own socket
  sys::SetCork(fd, true);  // data connections inherit it: see Worker::OpenOwnListener
  if (r == 0) r = sys::Bind(fd, addr);
  if (r == 0) r = sys::Listen(fd, 511);
  if (r == 0) r = sys::EpollAdd(epfd, fd, EPOLLIN, &p->handle);
  if (r < 0) p->fd.Reset();
  return r;
}

int PassivePool::Reserve(Session* s, int epfd) {
  if (ports_.empty()) return -EADDRINUSE;
  HostKey host = HostKey::Of(s->peer);
  int family = s->local.Family();
  for (size_t tried = 0; tried < ports_.size(); ++tried) {
    uint16_t port = ports_[cursor_];
    cursor_ = (cursor_ + 1) % ports_.size();
    auto& slot = listeners_[static_cast<uint32_t>(family) << 16 | port];
    if (!slot) {
      slot = std::make_unique<PassivePort>();
      slot->port = port;
    }
    if (!slot->fd.Valid() && Open(slot.get(), family, epfd) < 0) continue;  // taken by someone else
    if (!slot->waiting.emplace(host, s).second) continue;  // this host already waits here
    s->passive = slot.get();
    return port;
  }
  return -EADDRINUSE;
}

void PassivePool::Release(Session* s, uint64_t now_ms) {
  if (s->passive == nullptr) return;
  HostKey host = HostKey::Of(s->peer);
  auto it = s->passive->waiting.find(host);
  if (it != s->passive->waiting.end() && it->second == s) {
    s->passive->waiting.erase(it);
    Ended(s->passive, host, now_ms);
  }
  s->passive = nullptr;
}

Session* PassivePool::Claim(PassivePort* port, const SockAddr& peer, uint64_t now_ms) {
  HostKey host = HostKey::Of(peer);
  auto it = port->waiting.find(host);
  if (it == port->waiting.end()) return nullptr;
  Session* s = it->second;
  port->waiting.erase(it);
  Ended(port, host, now_ms);
  s->passive = nullptr;
  return s;
}

void PassivePool::Ended(PassivePort* port, const HostKey& host, uint64_t now_ms) {
  for (EndedReservation& e : port->ended) {
    if (e.at_ms != 0 && e.host == host) {
      e.at_ms = now_ms;
      return;
    }
  }
  port->ended[port->next_ended] = {host, now_ms};
  port->next_ended = (port->next_ended + 1) % port->ended.size();
}

bool PassivePool::EndedLately(const PassivePort& port, const SockAddr& peer, uint64_t now_ms) {
  HostKey host = HostKey::Of(peer);
  for (const EndedReservation& e : port.ended) {
    if (e.at_ms != 0 && e.host == host && now_ms - e.at_ms <= kLateWindowMs) return true;
  }
  return false;
}

}  // namespace muxftpd
