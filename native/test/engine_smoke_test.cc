// A loopback run of the whole engine without Node: many clients download one
// file over EPSV at once, a few misbehave, then everything shuts down clean.
// Built with ASan+UBSan and, separately, TSan (see Makefile).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../engine/engine.h"
#include "check.h"

using namespace muxftpd;

namespace {

constexpr size_t kFileSize = 3 * 1024 * 1024 + 17;
constexpr int kClients = 64;

// Queues batches from the workers; a driver thread plays the part of JS.
class QueueSink : public EventSink {
 public:
  void Deliver(int worker, std::unique_ptr<EventBatch> batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    q_.emplace_back(worker, std::move(batch));
    cv_.notify_one();
  }
  bool Pop(std::pair<int, std::unique_ptr<EventBatch>>* out, const std::atomic<bool>& stop) {
    std::unique_lock<std::mutex> lock(mu_);
    out->second.reset();
    cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return !q_.empty(); });
    if (q_.empty()) return !stop.load();
    *out = std::move(q_.front());
    q_.pop_front();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<int, std::unique_ptr<EventBatch>>> q_;
};

Action Reply(SessionId sid, std::string text) {
  Action a{};
  a.type = ActionType::kReply;
  a.sid = sid;
  a.data = std::move(text);
  return a;
}

// The minimal FTP brain: 220 on open, EPSV, RETR <path>, QUIT.
void Drive(Engine* engine, QueueSink* sink, const std::atomic<bool>& stop) {
  uint32_t seq = 1;
  std::pair<int, std::unique_ptr<EventBatch>> item;
  while (sink->Pop(&item, stop)) {
    if (!item.second) continue;
    std::vector<Action> out;
    for (const Event& e : *item.second) {
      if (e.type == EventType::kOpen) out.push_back(Reply(e.sid, "220 hi\r\n"));
      if (e.type == EventType::kPassiveReady) {
        out.push_back(Reply(e.sid, "229 (|||" + std::to_string(e.port) + "|)\r\n"));
      }
      if (e.type == EventType::kTransferDone) {
        out.push_back(Reply(e.sid, e.error == 0 ? "226 done\r\n" : "426 failed\r\n"));
      }
      if (e.type != EventType::kLine) continue;
      if (e.too_long) {
        out.push_back(Reply(e.sid, "500 too long\r\n"));
      } else if (e.text == "EPSV") {
        Action a{};
        a.type = ActionType::kListenPassive;
        a.sid = e.sid;
        a.seq = seq++;
        out.push_back(a);
      } else if (e.text.rfind("RETR ", 0) == 0) {
        out.push_back(Reply(e.sid, "150 here\r\n"));
        Action a{};
        a.type = ActionType::kSendFile;
        a.sid = e.sid;
        a.seq = seq++;
        a.data = e.text.substr(5);
        out.push_back(a);
      } else if (e.text == "QUIT") {
        out.push_back(Reply(e.sid, "221 bye\r\n"));
        Action a{};
        a.type = ActionType::kClose;
        a.sid = e.sid;
        out.push_back(a);
      } else {
        out.push_back(Reply(e.sid, "502 no\r\n"));
      }
    }
    if (!out.empty()) engine->Post(std::move(out));
    engine->BatchConsumed(item.first);
  }
}

// Connects to 127.0.0.1:port from 127.0.0.<source> (0: the kernel's choice).
int Connect(uint16_t port, int source = 0) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (source != 0) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(0x7f000000u | static_cast<uint32_t>(source));
    CHECK(bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

std::string ReadLine(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1) {
    line += c;
    if (c == '\n') break;
  }
  return line;
}

void Send(int fd, const std::string& s) { CHECK(write(fd, s.data(), s.size()) == (ssize_t)s.size()); }

bool Download(uint16_t port, int source = 0, bool thief_first = false) {
  int ctl = Connect(port, source);
  CHECK(ReadLine(ctl).rfind("220", 0) == 0);
  Send(ctl, "EPSV\r\n");
  std::string r = ReadLine(ctl);
  size_t bar = r.find("|||");
  CHECK(bar != std::string::npos);
  uint16_t data_port = static_cast<uint16_t>(std::stoi(r.substr(bar + 3)));
  if (thief_first) {
    // Another host grabs the port first: it must get nothing, and the owner still gets the file.
    int thief = Connect(data_port, source + 100);
    char b;
    CHECK(read(thief, &b, 1) == 0);
    close(thief);
  }
  int data = Connect(data_port, source);
  Send(ctl, "RETR file.bin\r\n");
  CHECK(ReadLine(ctl).rfind("150", 0) == 0);
  size_t total = 0;
  char buf[65536];
  ssize_t n;
  while ((n = read(data, buf, sizeof buf)) > 0) total += static_cast<size_t>(n);
  close(data);
  bool ok = ReadLine(ctl).rfind("226", 0) == 0 && total == kFileSize;
  Send(ctl, "QUIT\r\n");
  ok = ok && ReadLine(ctl).rfind("221", 0) == 0;
  close(ctl);
  return ok;
}

// Starts a download and resets both connections halfway.
void AbandonDownload(uint16_t port) {
  int ctl = Connect(port);
  ReadLine(ctl);
  Send(ctl, "EPSV\r\n");
  std::string r = ReadLine(ctl);
  int data = Connect(static_cast<uint16_t>(std::stoi(r.substr(r.find("|||") + 3))));
  Send(ctl, "RETR file.bin\r\n");
  char buf[4096];
  (void)!read(data, buf, sizeof buf);
  linger lg{1, 0};
  setsockopt(data, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  setsockopt(ctl, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(data);
  close(ctl);
}

// Sends 100 KiB without a newline, then a line: expects exactly one 500.
void Garbage(uint16_t port) {
  int ctl = Connect(port);
  ReadLine(ctl);
  std::string junk(100 * 1024, 'x');
  Send(ctl, junk);
  Send(ctl, "\r\nNOOP\r\n");
  CHECK(ReadLine(ctl).rfind("500", 0) == 0);
  CHECK(ReadLine(ctl).rfind("502", 0) == 0);
  close(ctl);
}

// Opens a passive listener, never connects, asks for the file after the data
// timeout: the listener is gone, so the transfer fails instead of hanging.
void StalePassive(uint16_t port) {
  int ctl = Connect(port);
  ReadLine(ctl);
  Send(ctl, "EPSV\r\n");
  CHECK(ReadLine(ctl).rfind("229", 0) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Send(ctl, "RETR file.bin\r\n");
  CHECK(ReadLine(ctl).rfind("150", 0) == 0);
  CHECK(ReadLine(ctl).rfind("426", 0) == 0);
  close(ctl);
}

EngineConfig BaseConfig(const char* dir) {
  EngineConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.root = dir;
  config.threads = 2;
  config.block_size = 64 * 1024;
  return config;
}

// Starts an engine with a driver thread, runs `clients` client threads
// (client(i, port) returns whether it succeeded), stops everything, and
// returns how many succeeded.
template <typename Client>
int RunClients(const EngineConfig& config, int clients, Client client) {
  QueueSink sink;
  Engine engine;
  std::string where;
  CHECK(engine.Start(config, &sink, &where) == 0);
  uint16_t port = engine.BoundAddress().Port();
  std::atomic<bool> stop{false};
  std::thread driver([&] { Drive(&engine, &sink, stop); });
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      if (client(i, port)) ok.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  // The driver calls BatchConsumed, which must not race with Stop.
  stop.store(true);
  driver.join();
  engine.Stop();
  return ok.load();
}

// Downloads among abandoned downloads and garbage senders.
void ManyClients(const char* dir, CopyMode mode) {
  EngineConfig config = BaseConfig(dir);
  config.copy_mode = mode;
  int ok = RunClients(config, kClients, [](int i, uint16_t port) {
    if (i % 16 == 1) {
      AbandonDownload(port);
      return false;
    }
    if (i % 16 == 2) {
      Garbage(port);
      return false;
    }
    return Download(port);
  });
  CHECK(ok == kClients - 2 * (kClients / 16));
  std::printf("engine_smoke_test (%s): ok\n", mode == CopyMode::kSendfile ? "sendfile" : "readwrite");
}

void ThrottledAndTimedOut(const char* dir) {
  EngineConfig config = BaseConfig(dir);
  config.max_rate = 40 * 1024 * 1024;
  config.max_rate_per_client = 8 * 1024 * 1024;
  config.data_timeout_ms = 300;
  int ok = RunClients(config, 7, [](int i, uint16_t port) {
    if (i == 6) {
      StalePassive(port);
      return false;
    }
    return Download(port);
  });
  CHECK(ok == 6);
  std::printf("engine_smoke_test (throttled, data timeout): ok\n");
}

// A 4-port passive range over 2 workers carries 16 downloads at once from 8
// client addresses (each worker holds 2 ports, so 2 per host always fit):
// the pool shares each port between hosts.
void SharedPassivePorts(const char* dir) {
  EngineConfig config = BaseConfig(dir);
  config.block_size = 16 * 1024;
  config.pasv_min = 47100;
  config.pasv_max = 47103;
  int ok = RunClients(config, 16, [](int i, uint16_t port) { return Download(port, 2 + i % 8, i == 0); });
  CHECK(ok == 16);
  std::printf("engine_smoke_test (shared passive ports): ok\n");
}

}  // namespace

int main() {
  signal(SIGPIPE, SIG_IGN);
  char dir[] = "/tmp/muxftpd-native-XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  {
    std::ofstream f(std::string(dir) + "/file.bin", std::ios::binary);
    std::string block(kFileSize, 'a');
    for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 131);
    f << block;
  }
  ManyClients(dir, CopyMode::kSendfile);
  ManyClients(dir, CopyMode::kReadWrite);
  ThrottledAndTimedOut(dir);
  SharedPassivePorts(dir);
  std::remove((std::string(dir) + "/file.bin").c_str());
  rmdir(dir);
  return 0;
}
