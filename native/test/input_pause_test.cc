// PauseInput / ResumeInput: a session JS has paused is not read (its lines
// wait in the kernel, its FIN behind them), other sessions are, and resuming
// delivers what waited, in order. The worker's own pause (JS behind, batches
// not consumed) and JS's pause are separate: lifting one never lifts the
// other. Sessions closed or reset while paused go cleanly. Built with
// ASan+UBSan and, separately, TSan (see Makefile).
//
// "Not read" is shown without a clock: the paused client writes first, then
// another client writes and waits for its echo. Loopback puts the first bytes
// in their socket before the second's, and level-triggered epoll reports
// every ready fd it watches at once, so a watched paused session would have
// been read in the same iteration as the other, or earlier.
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../engine/engine.h"
#include "check.h"
#include "loopback.h"

using namespace muxftpd;
using namespace muxftpd::test;

namespace {

constexpr auto kDeadline = std::chrono::seconds(10);
constexpr int kMaxInflight = 8;  // Worker::kMaxInflight: batches JS may hold before the worker pauses

// What the driver saw, in order: "open S", "line S text", "ended S", "closed S reason".
class Log {
 public:
  void Add(std::string entry) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.push_back(std::move(entry));
    cv_.notify_all();
  }
  bool Has(const std::string& entry) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& e : entries_) {
      if (e == entry) return true;
    }
    return false;
  }
  // Waits (bounded) for `entry`; false at the deadline.
  bool WaitFor(const std::string& entry) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] {
      for (const std::string& e : entries_) {
        if (e == entry) return true;
      }
      return false;
    });
  }
  // The entries about session `sid` (their second word), in order.
  std::vector<std::string> Of(SessionId sid) {
    std::string id = std::to_string(sid);
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const std::string& e : entries_) {
      size_t from = e.find(' ') + 1;
      size_t to = e.find(' ', from);
      if (e.compare(from, to == std::string::npos ? std::string::npos : to - from, id) == 0) out.push_back(e);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> entries_;
};

// Plays JS: greets with "220 <sid>", echoes each line as "200 <line>",
// closes a session whose client half-closed. While `hold` is set, batches are
// kept unconsumed (as a JS thread that has fallen behind), then run in order.
struct Driver {
  Driver(Engine* e, QueueSink* s, Log* l) : engine(e), sink(s), log(l) {}

  Engine* engine;
  QueueSink* sink;
  Log* log;
  std::atomic<bool> hold{false};
  std::atomic<int> held_count{0};
  std::deque<std::pair<int, std::unique_ptr<EventBatch>>> held;

  void Run(const std::atomic<bool>& stop) {
    std::pair<int, std::unique_ptr<EventBatch>> item;
    while (sink->Pop(&item, stop)) {
      if (item.second) held.push_back(std::move(item));
      if (hold.load()) {
        held_count.store(static_cast<int>(held.size()));
        continue;
      }
      while (!held.empty()) {
        Consume(held.front().first, *held.front().second);
        held.pop_front();
      }
      held_count.store(0);
    }
  }

  void Consume(int worker, const EventBatch& batch) {
    std::vector<Action> out;
    for (const Event& e : batch) {
      std::string sid = std::to_string(e.sid);
      switch (e.type) {
        case EventType::kOpen:
          log->Add("open " + sid);
          out.push_back(Reply(e.sid, "220 " + sid + "\r\n"));
          break;
        case EventType::kLine:
          log->Add("line " + sid + " " + e.text);
          out.push_back(Reply(e.sid, "200 " + e.text + "\r\n"));
          break;
        case EventType::kInputEnded: {
          log->Add("ended " + sid);
          Action close{};
          close.type = ActionType::kClose;
          close.sid = e.sid;
          out.push_back(std::move(close));
          break;
        }
        case EventType::kClosed:
          log->Add("closed " + sid + " " + std::to_string(static_cast<int>(e.reason)));
          break;
        default:
          break;
      }
    }
    if (!out.empty()) PostActions(*engine, out);
    engine->BatchConsumed(worker);
  }
};

Action Simple(ActionType type, SessionId sid) {
  Action a{};
  a.type = type;
  a.sid = sid;
  return a;
}

// A client whose reads give up at the deadline, so that a hung engine fails the test.
struct Client {
  int fd;
  SessionId sid;
};

Client Open(uint16_t port) {
  int fd = Connect(port);
  timeval tv{static_cast<time_t>(kDeadline.count()), 0};
  CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
  std::string greeting = ReadLine(fd);
  CHECK(greeting.rfind("220 ", 0) == 0);
  return {fd, std::stoull(greeting.substr(4))};
}

// Pauses (or resumes) `c` and waits until the worker has applied it: the
// reply posted behind the action reaches the client only after it.
void SetPaused(Engine& engine, const Client& c, bool paused) {
  std::vector<Action> actions;
  actions.push_back(Simple(paused ? ActionType::kPauseInput : ActionType::kResumeInput, c.sid));
  actions.push_back(Reply(c.sid, paused ? "200 paused\r\n" : "200 resumed\r\n"));
  PostActions(engine, actions);
  CHECK(ReadLine(c.fd) == (paused ? "200 paused\r\n" : "200 resumed\r\n"));
}

// Another client's round trip: every byte written before it on any session
// the worker watches has been read (see the top of the file).
void RoundTrip(const Client& other, const std::string& text) {
  Send(other.fd, text + "\r\n");
  CHECK(ReadLine(other.fd) == "200 " + text + "\r\n");
}

bool WaitHeld(Driver& driver, int n) {
  auto end = std::chrono::steady_clock::now() + kDeadline;
  while (driver.held_count.load() < n) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

template <typename Body>
void WithDriver(const char* dir, Body body) {
  // One worker: every session shares its loop, and its pause.
  EngineConfig config = TestConfig(dir, 1);
  QueueSink sink;
  Engine engine;
  std::string where;
  CHECK(engine.Start(config, &sink, &where) == 0);
  Log log;
  Driver driver(&engine, &sink, &log);
  std::atomic<bool> stop{false};
  std::thread thread([&] { driver.Run(stop); });
  body(engine, driver, log, engine.BoundAddress().Port());
  driver.hold.store(false);
  stop.store(true);
  thread.join();
  engine.Stop();
}

// Lines and a FIN sent while paused wait in the kernel; another session is
// served meanwhile; on resume they arrive in order, the FIN last.
void HeldUntilResumed(const char* dir) {
  WithDriver(dir, [](Engine& engine, Driver&, Log& log, uint16_t port) {
    Client a = Open(port);
    Client b = Open(port);
    SetPaused(engine, a, true);
    Send(a.fd, "one\r\ntwo\r\n");
    CHECK(shutdown(a.fd, SHUT_WR) == 0);
    RoundTrip(b, "ping");
    CHECK(log.Of(a.sid).size() == 1);  // "open" only
    SetPaused(engine, a, false);
    CHECK(ReadLine(a.fd) == "200 one\r\n");
    CHECK(ReadLine(a.fd) == "200 two\r\n");
    char c;
    CHECK(read(a.fd, &c, 1) == 0);
    std::string sid = std::to_string(a.sid);
    std::string closed = "closed " + sid + " " + std::to_string(static_cast<int>(CloseReason::kRequested));
    CHECK(log.WaitFor(closed));
    std::vector<std::string> want{"open " + sid, "line " + sid + " one", "line " + sid + " two",
                                  "ended " + sid, closed};
    CHECK(log.Of(a.sid) == want);
    close(a.fd);
    close(b.fd);
  });
  std::printf("input_pause_test (held until resumed, FIN last): ok\n");
}

// The worker pauses reading while JS holds kMaxInflight batches. A session
// paused by JS meanwhile stays paused when the worker resumes; a session JS
// resumes meanwhile stays unread until the worker resumes.
void SeparateFromWorkerPause(const char* dir) {
  WithDriver(dir, [](Engine& engine, Driver& driver, Log& log, uint16_t port) {
    Client a = Open(port);  // paused by JS during the worker's pause, resumed after it
    Client b = Open(port);  // fills the batches
    Client c = Open(port);  // paused by JS before the worker's pause, resumed during it
    SetPaused(engine, c, true);
    Send(c.fd, "c1\r\n");
    driver.hold.store(true);
    for (int i = 0; i < kMaxInflight; ++i) {
      Send(b.fd, "h" + std::to_string(i) + "\r\n");
      CHECK(WaitHeld(driver, i + 1));
    }
    // The worker is paused now: a's line finds it so (its EPOLLIN is dropped
    // by the worker's pause, or not yet seen), then JS pauses a too.
    Send(a.fd, "a1\r\n");
    SetPaused(engine, a, true);
    SetPaused(engine, c, false);
    driver.hold.store(false);
    for (int i = 0; i < kMaxInflight; ++i) CHECK(ReadLine(b.fd) == "200 h" + std::to_string(i) + "\r\n");
    // The worker has resumed: b is read again, and so is c, which JS resumed.
    RoundTrip(b, "after");
    CHECK(ReadLine(c.fd) == "200 c1\r\n");
    CHECK(!log.Has("line " + std::to_string(a.sid) + " a1"));
    SetPaused(engine, a, false);
    CHECK(ReadLine(a.fd) == "200 a1\r\n");
    close(a.fd);
    close(b.fd);
    close(c.fd);
  });
  std::printf("input_pause_test (separate from the worker's pause): ok\n");
}

// A paused session closed by JS, one reset by its client, and one still
// paused when the engine stops: each goes, with its unread input, cleanly.
void ClosedWhilePaused(const char* dir) {
  WithDriver(dir, [](Engine& engine, Driver&, Log& log, uint16_t port) {
    Client a = Open(port);
    Client b = Open(port);
    Client c = Open(port);
    SetPaused(engine, a, true);
    SetPaused(engine, b, true);
    SetPaused(engine, c, true);
    Send(a.fd, "unread\r\n");
    Send(b.fd, "unread\r\n");
    Send(c.fd, "unread\r\n");
    std::vector<Action> actions;
    actions.push_back(Simple(ActionType::kClose, a.sid));
    PostActions(engine, actions);
    CHECK(log.WaitFor("closed " + std::to_string(a.sid) + " " +
                      std::to_string(static_cast<int>(CloseReason::kRequested))));
    linger lg{1, 0};
    CHECK(setsockopt(b.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    close(b.fd);
    CHECK(log.WaitFor("closed " + std::to_string(b.sid) + " " +
                      std::to_string(static_cast<int>(CloseReason::kPeerClosed))));
    CHECK(!log.Has("line " + std::to_string(a.sid) + " unread"));
    CHECK(!log.Has("line " + std::to_string(b.sid) + " unread"));
    close(a.fd);
    // c is closed by the engine's stop, still paused.
    close(c.fd);
  });
  std::printf("input_pause_test (closed and reset while paused): ok\n");
}

}  // namespace

int main() {
  signal(SIGPIPE, SIG_IGN);
  TempDir root;  // nothing is served from it
  HeldUntilResumed(root.Path());
  SeparateFromWorkerPause(root.Path());
  ClosedWhilePaused(root.Path());
  return 0;
}
