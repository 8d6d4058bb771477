// A STOR over a file that has bytes: the engine empties the old file on its
// FileJobs thread. With that thread held by the test, nothing of the upload
// may reach the file and no end may be reported (neither its 226 nor an ABOR's
// 426) until the file is empty; once released, the file holds exactly the
// upload. Built with ASan+UBSan and, separately, TSan (see Makefile).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "../engine/engine.h"
#include "../engine/file_jobs.h"
#include "check.h"
#include "loopback.h"

using namespace muxftpd;
using namespace muxftpd::test;

namespace {

const std::string kOld(1024 * 1024, 'o');
const std::string kNew = "the new contents\n";

// EPSV, STOR <path> (truncating from offset 0), and anything else is ABOR.
void Drive(Engine* engine, QueueSink* sink, const std::atomic<bool>& stop) {
  test::Drive(engine, sink, stop, [](const Event& e, uint32_t& seq, std::vector<Action>& out) {
    Action a{};
    a.sid = e.sid;
    a.seq = seq++;
    if (e.text == "EPSV") {
      a.type = ActionType::kListenPassive;
    } else if (e.text.rfind("STOR ", 0) == 0) {
      out.push_back(Reply(e.sid, "150 send\r\n"));
      a.type = ActionType::kRecvFile;
      a.mode = WriteMode::kTruncate;
      a.data = e.text.substr(5);
    } else {
      a.type = ActionType::kAbort;
    }
    out.push_back(std::move(a));
  });
}

std::string Contents(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

bool Readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, ms) == 1;
}

// Holds the FileJobs thread with a truncation of a scratch file of its own,
// until release() is called.
class Hold {
 public:
  explicit Hold(FileJobs* jobs, const std::string& scratch) {
    WriteFile(scratch, "x");
    int fd = open(scratch.c_str(), O_WRONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    jobs->Truncate(UniqueFd(fd), [this](int) {
      started_ = true;
      while (!released_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    while (!started_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void Release() { released_ = true; }

 private:
  std::atomic<bool> started_{false};
  std::atomic<bool> released_{false};
};

// Opens a session, EPSV, connects the data connection, STOR `name`: returns
// the control and data fds once the 150 is in.
std::pair<int, int> StartStor(uint16_t port, const std::string& name) {
  int ctl = Connect(port);
  CHECK(ReadLine(ctl).rfind("220", 0) == 0);
  Send(ctl, "EPSV\r\n");
  std::string r = ReadLine(ctl);
  size_t bar = r.find("|||");
  CHECK(bar != std::string::npos);
  int data = Connect(static_cast<uint16_t>(std::stoi(r.substr(bar + 3))));
  Send(ctl, "STOR " + name + "\r\n");
  CHECK(ReadLine(ctl).rfind("150", 0) == 0);
  return {ctl, data};
}

void Run(const std::string& dir) {
  const std::string target = dir + "/old.bin";
  EngineConfig config = TestConfig(dir, 1);
  config.block_size = 256 * 1024;
  WithEngine(config, Drive, [&](Engine& engine, uint16_t port) {
    // The whole upload and its FIN arrive while the old file waits to be emptied.
    WriteFile(target, kOld);
    {
      Hold hold(&engine.file_jobs(), dir + "/scratch1");
      auto [ctl, data] = StartStor(port, "old.bin");
      Send(data, kNew);
      close(data);
      CHECK(!Readable(ctl, 300));        // no 226 yet
      CHECK(Contents(target) == kOld);   // not a byte written, not emptied
      hold.Release();
      CHECK(ReadLine(ctl).rfind("226", 0) == 0);
      CHECK(Contents(target) == kNew);
      close(ctl);
    }
    // ABOR meanwhile: its 426 waits for the file to be empty, so no later
    // command of the client can write into the file before the truncation.
    WriteFile(target, kOld);
    {
      Hold hold(&engine.file_jobs(), dir + "/scratch2");
      auto [ctl, data] = StartStor(port, "old.bin");
      Send(ctl, "ABOR\r\n");
      CHECK(!Readable(ctl, 300));  // no 426 yet
      hold.Release();
      CHECK(ReadLine(ctl).rfind("426", 0) == 0);
      CHECK(Contents(target).empty());
      close(data);
      close(ctl);
    }
  });
  for (const char* name : {"/old.bin", "/scratch1", "/scratch2"}) std::remove((dir + name).c_str());
}

}  // namespace

int main() {
  signal(SIGPIPE, SIG_IGN);
  char dir[] = "/tmp/muxftpd-native-XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  Run(dir);
  rmdir(dir);
  std::puts("replace_upload_test: ok");
  return 0;
}
