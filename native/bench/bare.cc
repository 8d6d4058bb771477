// bare: the least FTP server ftpload's login, small-file, persistent and
// NOOP scenarios can run against, as a reference for what this machine can
// show. One thread, one level-triggered epoll loop, no checks at all: any
// USER and PASS log in, RETR of any name sends the one file given at start,
// kept in memory. What it costs the machine is the kernel's TCP work and the
// load generator's, and nothing a real server adds (configuration, paths,
// permissions, logging, its own language runtime).
//
// Usage: bare --port N --file PATH --pasv-ports MIN-MAX   (127.0.0.1 only;
// --port 0: any free port. It prints the port it listens on.)
//
// Not a server for anything but bench:compare's reference column.

#include <getopt.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <unordered_map>

#include "native/engine/sys.h"

namespace {

using muxftpd::SockAddr;
using muxftpd::UniqueFd;
namespace sys = muxftpd::sys;

// A listener on 127.0.0.1:port, or -errno.
int Listener(uint16_t port, int backlog) {
  SockAddr a;
  SockAddr::Parse("127.0.0.1", port, &a);
  int r = sys::TcpSocket(AF_INET);
  if (r < 0) return r;
  UniqueFd fd(r);
  (void)sys::SetReuseAddr(fd.Get());
  (void)sys::SetNoDelay(fd.Get());  // accepted sockets inherit it
  if ((r = sys::Bind(fd.Get(), a)) < 0 || (r = sys::Listen(fd.Get(), backlog)) < 0) return r;
  return fd.Release();
}

// EPSV listeners take the ports of a range in turn, as a real server's
// passive range: binding port 0 instead makes the kernel search its whole
// ephemeral range, milliseconds a bind while the load generator's own
// connections hold most of it.
class PortRange {
 public:
  PortRange(uint16_t min, uint16_t max) : min_(min), max_(max), next_(min) {}

  // A listener on the next free port of the range and its port; -1 when none is.
  int Open(uint16_t* port) {
    for (int tries = 0; tries <= max_ - min_; ++tries) {
      uint16_t p = next_;
      next_ = next_ == max_ ? min_ : static_cast<uint16_t>(next_ + 1);
      int fd = Listener(p, 1);
      if (fd >= 0) {
        *port = p;
        return fd;
      }
      if (fd != -EADDRINUSE) return -1;
    }
    return -1;
  }

 private:
  uint16_t min_, max_, next_;
};

struct Client {
  int ctl = -1;
  int pasv = -1;   // EPSV listener, until the data connection arrives
  int data = -1;
  bool retr = false;  // RETR came before the data connection
  std::string in;
};

class Server {
 public:
  Server(int listen_fd, std::string file, PortRange ports)
      : listen_(listen_fd), file_(std::move(file)), ports_(ports) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    Watch(listen_, EPOLLIN);
  }

  bool Ready() const { return ep_ != -1; }

  void Run() {
    epoll_event ev[256];
    while (true) {
      int n = epoll_wait(ep_, ev, 256, -1);
      if (n == -1 && errno != EINTR) return;
      for (int i = 0; i < n; ++i) Dispatch(ev[i].data.fd);
    }
  }

 private:
  void Watch(int fd, uint32_t events) {
    epoll_event e{};
    e.events = events;
    e.data.fd = fd;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &e);
  }

  void Dispatch(int fd) {
    if (fd == listen_) return AcceptAll();
    auto it = owner_.find(fd);
    if (it == owner_.end()) return;
    Client* c = it->second;
    if (fd == c->ctl) return OnControl(c);
    if (fd == c->pasv) return OnPassive(c);
  }

  void AcceptAll() {
    while (true) {
      int fd = accept4(listen_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd == -1) return;
      auto client = std::make_unique<Client>();
      Client* c = client.get();
      c->ctl = fd;
      clients_[fd] = std::move(client);
      owner_[fd] = c;
      Watch(fd, EPOLLIN);
      Reply(c, "220 bare\r\n");
    }
  }

  void OnControl(Client* c) {
    char buf[4096];
    ssize_t n = read(c->ctl, buf, sizeof buf);
    if (n == -1 && errno == EAGAIN) return;
    if (n <= 0) return Drop(c);
    c->in.append(buf, static_cast<size_t>(n));
    std::string out;
    size_t start = 0, eol;
    bool quit = false;
    while (!quit && (eol = c->in.find('\n', start)) != std::string::npos) {
      std::string_view line(c->in.data() + start, eol - start);
      start = eol + 1;
      quit = Command(c, line, &out);
    }
    c->in.erase(0, start);
    if (quit) {
      // The FIN rides with the 221, as muxftpd's; not when lines wait unread
      // (the close is then a reset, which would drop a held-back 221).
      (void)sys::Send(c->ctl, out.data(), out.size(), sys::LastBytesMayWait(c->ctl));
      return Drop(c);
    }
    if (!out.empty()) Reply(c, out);
  }

  // Appends the reply to `out`; true for QUIT.
  bool Command(Client* c, std::string_view line, std::string* out) {
    auto is = [&](const char* verb) { return strncasecmp(line.data(), verb, strlen(verb)) == 0; };
    if (is("USER")) {
      *out += "331 ok\r\n";
    } else if (is("PASS")) {
      *out += "230 ok\r\n";
    } else if (is("QUIT")) {
      *out += "221 bye\r\n";
      return true;
    } else if (is("EPSV") || is("PASV")) {
      CloseData(c);
      uint16_t port = 0;
      c->pasv = ports_.Open(&port);
      if (c->pasv == -1) {
        *out += "425 no listener\r\n";
      } else {
        owner_[c->pasv] = c;
        Watch(c->pasv, EPOLLIN);
        *out += is("EPSV") ? "229 ok (|||" + std::to_string(port) + "|)\r\n"
                           : "227 ok (127,0,0,1," + std::to_string(port / 256) + "," +
                                 std::to_string(port % 256) + ")\r\n";
      }
    } else if (is("RETR")) {
      if (c->data == -1 && c->pasv == -1) {
        *out += "425 use EPSV or PASV first\r\n";
      } else if (c->data == -1) {
        c->retr = true;  // sent once the data connection arrives
      } else {
        *out += "150 ok\r\n";
        *out += SendFile(c);
      }
    } else {
      *out += "200 ok\r\n";  // TYPE, NOOP and anything else
    }
    return false;
  }

  void OnPassive(Client* c) {
    int fd = accept4(c->pasv, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd == -1) return;
    owner_.erase(c->pasv);
    close(c->pasv);
    c->pasv = -1;
    c->data = fd;
    if (c->retr) {
      c->retr = false;
      Reply(c, "150 ok\r\n" + SendFile(c));
    }
  }

  // Sends the whole file in one write (a fresh socket's buffer takes a small
  // file) and closes the data connection; returns the final reply.
  std::string SendFile(Client* c) {
    ssize_t n = send(c->data, file_.data(), file_.size(), MSG_NOSIGNAL);
    CloseData(c);
    return n == static_cast<ssize_t>(file_.size()) ? "226 ok\r\n" : "426 short write\r\n";
  }

  void CloseData(Client* c) {
    if (c->pasv != -1) {
      owner_.erase(c->pasv);
      close(c->pasv);
      c->pasv = -1;
    }
    if (c->data != -1) {
      close(c->data);
      c->data = -1;
    }
    c->retr = false;
  }

  void Reply(Client* c, const std::string& text) {
    send(c->ctl, text.data(), text.size(), MSG_NOSIGNAL);
  }

  void Drop(Client* c) {
    CloseData(c);
    int ctl = c->ctl;
    owner_.erase(ctl);
    close(ctl);
    clients_.erase(ctl);  // frees c
  }

  int listen_;
  int ep_ = -1;
  std::string file_;
  PortRange ports_;
  std::unordered_map<int, std::unique_ptr<Client>> clients_;  // by control fd
  std::unordered_map<int, Client*> owner_;                    // by control and listener fd
};

}  // namespace

namespace {

struct Options {
  uint16_t port = 0;
  const char* file = nullptr;
  uint16_t pasv_min = 0, pasv_max = 0;
};

[[noreturn]] void Usage() {
  fprintf(stderr, "usage: bare --port N --file PATH --pasv-ports MIN-MAX\n");
  exit(2);
}

// "0".."65535"; false for anything else.
bool ParsePort(const char* text, uint16_t* port) {
  char* end = nullptr;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < 0 || v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

// --port, --file and --pasv-ports, all three required; anything else is usage (exit 2).
Options ParseOptions(int argc, char** argv) {
  enum { kPort = 256, kFile, kPasvPorts, kHelp };
  static const option kLong[] = {
      {"port", required_argument, nullptr, kPort},
      {"file", required_argument, nullptr, kFile},
      {"pasv-ports", required_argument, nullptr, kPasvPorts},
      {"help", no_argument, nullptr, kHelp},
      {nullptr, 0, nullptr, 0},
  };
  Options o;
  bool have_port = false, have_range = false;
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, "", kLong, nullptr)) != -1;) {
    switch (c) {
      case kPort:
        have_port = ParsePort(optarg, &o.port);
        if (!have_port) Usage();
        break;
      case kFile:
        o.file = optarg;
        break;
      case kPasvPorts: {
        // MIN-MAX, 1 <= MIN <= MAX <= 65535
        std::string range = optarg;
        size_t dash = range.find('-');
        have_range = dash != std::string::npos &&
                     ParsePort(range.substr(0, dash).c_str(), &o.pasv_min) &&
                     ParsePort(range.substr(dash + 1).c_str(), &o.pasv_max) && o.pasv_min > 0 &&
                     o.pasv_min <= o.pasv_max;
        if (!have_range) Usage();
        break;
      }
      default:
        Usage();
    }
  }
  if (optind < argc || !have_port || o.file == nullptr || !have_range) Usage();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseOptions(argc, argv);
  std::string content;
  {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) {
      fprintf(stderr, "bare: cannot read %s\n", o.file);
      return 1;
    }
    content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  signal(SIGPIPE, SIG_IGN);
  // As muxftpd: the soft fd limit up to the hard one. At the soft limit the
  // level-triggered listener would spin on EMFILE and skew the figure.
  (void)sys::RaiseFdLimit();
  int fd = Listener(o.port, 4096);
  if (fd < 0) {
    fprintf(stderr, "bare: listen: %s\n", strerror(-fd));
    return 1;
  }
  SockAddr bound;
  (void)sys::LocalAddress(fd, &bound);
  printf("bare listening on 127.0.0.1:%u\n", bound.Port());
  fflush(stdout);
  PortRange ports(o.pasv_min, o.pasv_max);
  Server server(fd, std::move(content), ports);
  if (!server.Ready()) {
    perror("bare: epoll_create1");
    return 1;
  }
  server.Run();
  return 1;  // Run returns only when epoll_wait fails
}
