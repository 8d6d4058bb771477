// A loopback run of the whole engine without Node: many clients download one
// file over EPSV at once, a few misbehave, then everything shuts down clean.
// Built with ASan+UBSan and, separately, TSan (see Makefile).
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../engine/engine.h"
#include "check.h"
#include "loopback.h"

using namespace muxftpd;
using namespace muxftpd::test;

namespace {

constexpr size_t kFileSize = 3 * 1024 * 1024 + 17;
constexpr size_t kSmallSize = 4096;
constexpr int kClients = 64;

// What the driver saw of transfers: written by the driver thread only, read once it has joined.
struct TransferTally {
  std::map<uint32_t, std::string> retr;  // seq → path
  std::set<uint32_t> started;            // seqs of kTransferStarted events
  std::map<uint32_t, bool> done_opened;  // seq → kTransferDone's `opened`
  int data_connected = 0;                // kDataConnected events
};
TransferTally tally;

// The minimal FTP brain: EPSV, RETR <path>, QUIT.
void Drive(Engine* engine, QueueSink* sink, const std::atomic<bool>& stop) {
  auto on_event = [](const Event& e) {
    if (e.type == EventType::kTransferStarted) tally.started.insert(e.seq);
    if (e.type == EventType::kTransferDone) tally.done_opened[e.seq] = e.opened;
    if (e.type == EventType::kDataConnected) ++tally.data_connected;
  };
  test::Drive(engine, sink, stop, [](const Event& e, uint32_t& seq, std::vector<Action>& out) {
    Action a{};
    a.sid = e.sid;
    if (e.too_long) {
      out.push_back(Reply(e.sid, "500 too long\r\n"));
      return;
    }
    if (e.text == "EPSV") {
      a.type = ActionType::kListenPassive;
      a.seq = seq++;
    } else if (e.text.rfind("RETR ", 0) == 0) {
      out.push_back(Reply(e.sid, "150 here\r\n"));
      a.type = ActionType::kSendFile;
      a.seq = seq++;
      a.data = e.text.substr(5);
      tally.retr[a.seq] = a.data;
    } else if (e.text == "QUIT") {
      out.push_back(Reply(e.sid, "221 bye\r\n"));
      a.type = ActionType::kClose;
    } else {
      out.push_back(Reply(e.sid, "502 no\r\n"));
      return;
    }
    out.push_back(std::move(a));
  }, on_event);
}

bool Download(uint16_t port, int source = 0, bool thief_first = false, const std::string& name = "file.bin",
              size_t size = kFileSize) {
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
  Send(ctl, "RETR " + name + "\r\n");
  CHECK(ReadLine(ctl).rfind("150", 0) == 0);
  size_t total = 0;
  char buf[65536];
  ssize_t n;
  while ((n = read(data, buf, sizeof buf)) > 0) total += static_cast<size_t>(n);
  close(data);
  bool ok = ReadLine(ctl).rfind("226", 0) == 0 && total == size;
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

EngineConfig BaseConfig(const char* dir) { return TestConfig(dir, 2); }

// Starts an engine with a driver thread, runs `clients` client threads
// (client(i, port) returns whether it succeeded), stops everything, and
// returns how many succeeded.
template <typename Client>
int RunClients(const EngineConfig& config, int clients, Client client) {
  std::atomic<int> ok{0};
  WithEngine(config, Drive, [&](Engine&, uint16_t port) {
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([&, i] {
        if (client(i, port)) ok.fetch_add(1);
      });
    }
    for (auto& t : threads) t.join();
  });
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
  // Above the kernel's ephemeral range (32768-60999 by default), where no
  // client socket of another test can hold one of these ports; below the
  // integration tests' random ranges (61000-64999).
  config.pasv_min = 65100;
  config.pasv_max = 65103;
  int ok = RunClients(config, 16, [](int i, uint16_t port) { return Download(port, 2 + i % 8, i == 0); });
  CHECK(ok == 16);
  std::printf("engine_smoke_test (shared passive ports): ok\n");
}

// A file that ends in the batch it opened in has no kTransferStarted: its
// kTransferDone says `opened`. One that spans turns has both. A passive data
// connection is counted (passive_control_peer), not reported.
void TransferEvents(const char* dir) {
  tally = {};
  EngineConfig config = BaseConfig(dir);
  config.threads = 1;
  constexpr int kSmall = 6, kLarge = 2;
  uint64_t passive = 0;
  WithEngine(config, Drive, [&](Engine& engine, uint16_t port) {
    for (int i = 0; i < kSmall; ++i) CHECK(Download(port, 0, false, "small.bin", kSmallSize));
    for (int i = 0; i < kLarge; ++i) CHECK(Download(port));
    passive = engine.Stats().passive_control_peer;
  });
  CHECK(passive == kSmall + kLarge);
  CHECK(tally.data_connected == 0);
  CHECK(tally.retr.size() == kSmall + kLarge);
  for (const auto& [seq, name] : tally.retr) {
    CHECK(tally.done_opened.count(seq) == 1);
    bool small = name == "small.bin";
    CHECK(tally.done_opened[seq] == small);
    CHECK(tally.started.count(seq) == (small ? 0u : 1u));
  }
  std::printf("engine_smoke_test (transfer events): ok\n");
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
  {
    std::ofstream f(std::string(dir) + "/small.bin", std::ios::binary);
    f << std::string(kSmallSize, 's');
  }
  TransferEvents(dir);
  ManyClients(dir, CopyMode::kSendfile);
  ManyClients(dir, CopyMode::kReadWrite);
  ThrottledAndTimedOut(dir);
  SharedPassivePorts(dir);
  std::remove((std::string(dir) + "/file.bin").c_str());
  std::remove((std::string(dir) + "/small.bin").c_str());
  rmdir(dir);
  return 0;
}
