// A STOR over a file that has bytes: the engine empties the old file on its
// FileJobs thread. With that thread held by the test, nothing of the upload
// may reach the file and no end may be reported (neither its 226 nor an ABOR's
// 426) until the file is empty; once released, the file holds exactly the
// upload. The STOR's exclusive lock is held from its open, through that wait:
// a RETR meanwhile is refused (-EAGAIN), and one right after the 226 is
// served although the file's close still waits for the FileJobs thread.
// With WriteMode::kReplace (--atomic-uploads) the upload goes to a temporary,
// and its rename over the target waits for the FileJobs thread, as does the
// 226; an aborted one leaves the target and no temporary.
// Built with ASan+UBSan and, separately, TSan (see Makefile).
#include <dirent.h>
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

// EPSV, STOR <path> (truncating from offset 0), ASTOR <path> (kReplace),
// RETR <path>, and anything else is ABOR.
void Drive(Engine* engine, QueueSink* sink, const std::atomic<bool>& stop) {
  test::Drive(engine, sink, stop, [](const Event& e, uint32_t& seq, std::vector<Action>& out) {
    Action a{};
    a.sid = e.sid;
    a.seq = seq++;
    if (e.text == "EPSV") {
      a.type = ActionType::kListenPassive;
    } else if (e.text.rfind("RETR ", 0) == 0) {
      a.type = ActionType::kSendFile;
      a.preamble = "150 sending\r\n";  // only once the file is open (and locked)
      a.data = e.text.substr(5);
    } else if (e.text.rfind("ASTOR ", 0) == 0) {
      out.push_back(Reply(e.sid, "150 send\r\n"));
      a.type = ActionType::kRecvFile;
      a.mode = WriteMode::kReplace;
      a.data = e.text.substr(6);
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
// until release() is called; destroyed, it waits for its job to let go.
class Hold {
 public:
  explicit Hold(FileJobs* jobs, const std::string& scratch) {
    WriteFile(scratch, "x");
    int fd = open(scratch.c_str(), O_WRONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    jobs->Truncate(UniqueFd(fd), [this](int) {
      started_ = true;
      while (!released_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      finished_ = true;  // the job's last touch of this object
    });
    while (!started_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Hold() {
    Release();
    while (!finished_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void Release() { released_ = true; }

 private:
  std::atomic<bool> started_{false};
  std::atomic<bool> released_{false};
  std::atomic<bool> finished_{false};
};

// Opens a session, EPSV, connects the data connection: the control and data fds.
std::pair<int, int> OpenWithData(uint16_t port) {
  int ctl = Connect(port);
  CHECK(ReadLine(ctl).rfind("220", 0) == 0);
  Send(ctl, "EPSV\r\n");
  std::string r = ReadLine(ctl);
  size_t bar = r.find("|||");
  CHECK(bar != std::string::npos);
  int data = Connect(static_cast<uint16_t>(std::stoi(r.substr(bar + 3))));
  return {ctl, data};
}

// OpenWithData, then STOR `name`: returns once the 150 is in.
std::pair<int, int> StartStor(uint16_t port, const std::string& name) {
  auto [ctl, data] = OpenWithData(port);
  Send(ctl, "STOR " + name + "\r\n");
  CHECK(ReadLine(ctl).rfind("150", 0) == 0);
  return {ctl, data};
}

// What a RETR on ctl gets: the refusal line, or the file's bytes (read from
// `data`, which the server closes at the end) once the 150 and 226 are in.
std::string Retr(int ctl, int data, const std::string& name) {
  Send(ctl, "RETR " + name + "\r\n");
  std::string first = ReadLine(ctl);
  if (first.rfind("150", 0) != 0) return first;
  std::string bytes;
  char buf[65536];
  ssize_t n;
  while ((n = read(data, buf, sizeof buf)) > 0) bytes.append(buf, static_cast<size_t>(n));
  CHECK(ReadLine(ctl).rfind("226", 0) == 0);
  return bytes;
}

// The names in `dir` that start with kUploadTempPrefix.
std::vector<std::string> Temporaries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  CHECK(d != nullptr);
  while (dirent* e = readdir(d)) {
    if (std::string(e->d_name).rfind(kUploadTempPrefix, 0) == 0) out.emplace_back(e->d_name);
  }
  closedir(d);
  return out;
}

const std::string kBusy = "426 failed " + std::to_string(-EAGAIN) + "\r\n";

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
    // The lock: from the STOR's open, through the wait for the truncation and
    // the upload; gone with the 226 though the close waits behind a job.
    WriteFile(target, kOld);
    {
      auto [reader, reader_data] = OpenWithData(port);
      std::pair<int, int> writer;
      {
        Hold hold(&engine.file_jobs(), dir + "/scratch3");
        writer = StartStor(port, "old.bin");
        CHECK(Retr(reader, reader_data, "old.bin") == kBusy);  // no 150: refused at open
        hold.Release();
      }
      Hold hold(&engine.file_jobs(), dir + "/scratch4");  // after the truncation: the close waits
      CHECK(Retr(reader, reader_data, "old.bin") == kBusy);  // the upload runs
      Send(writer.second, kNew);
      close(writer.second);
      CHECK(ReadLine(writer.first).rfind("226", 0) == 0);
      // On the data connection the refusals kept.
      CHECK(Retr(reader, reader_data, "old.bin") == kNew);
      hold.Release();
      close(writer.first);
      close(reader);
      close(reader_data);
    }
    // A session that closes while its truncation runs ends at once; the job's
    // fd keeps the lock until the file is empty.
    WriteFile(target, kOld);
    {
      auto [reader, reader_data] = OpenWithData(port);
      Hold hold(&engine.file_jobs(), dir + "/scratch5");
      const int sessions = engine.Stats().sessions;
      auto [ctl, data] = StartStor(port, "old.bin");
      // A reset (SO_LINGER 0): the session closes at once, as for a client
      // that vanishes (a FIN would only end its input, for JS to close).
      linger reset{1, 0};
      CHECK(setsockopt(ctl, SOL_SOCKET, SO_LINGER, &reset, sizeof reset) == 0);
      close(ctl);
      // The reset reaches the worker some time after: wait, bounded, for the session to go.
      for (int i = 0; i < 400 && engine.Stats().sessions > sessions; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      CHECK(engine.Stats().sessions == sessions);
      close(data);
      CHECK(Retr(reader, reader_data, "old.bin") == kBusy);
      hold.Release();
      std::string got = kBusy;
      for (int i = 0; i < 200 && got == kBusy; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        got = Retr(reader, reader_data, "old.bin");
      }
      CHECK(got.empty());  // emptied, and nothing written
      close(reader);
      close(reader_data);
    }
    // kReplace: the old file stays whole until the rename, which waits for the
    // FileJobs thread, and the 226 waits for the rename.
    WriteFile(target, kOld);
    {
      auto [ctl, data] = OpenWithData(port);
      Send(ctl, "ASTOR old.bin\r\n");
      CHECK(ReadLine(ctl).rfind("150", 0) == 0);
      Send(data, kNew);
      Hold hold(&engine.file_jobs(), dir + "/scratch6");
      close(data);
      CHECK(!Readable(ctl, 300));  // no 226 before the rename
      CHECK(Contents(target) == kOld);
      CHECK(Temporaries(dir).size() == 1);
      hold.Release();
      CHECK(ReadLine(ctl).rfind("226", 0) == 0);
      CHECK(Contents(target) == kNew);
      CHECK(Temporaries(dir).empty());
      close(ctl);
    }
    // kReplace aborted: the temporary goes (on the FileJobs thread), the target stays.
    {
      auto [ctl, data] = OpenWithData(port);
      Send(ctl, "ASTOR old.bin\r\n");
      CHECK(ReadLine(ctl).rfind("150", 0) == 0);
      Send(data, "partial");
      Send(ctl, "ABOR\r\n");
      CHECK(ReadLine(ctl).rfind("426", 0) == 0);
      for (int i = 0; i < 400 && !Temporaries(dir).empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      CHECK(Temporaries(dir).empty());
      CHECK(Contents(target) == kNew);
      close(data);
      close(ctl);
    }
  });
  for (const char* name :
       {"/old.bin", "/scratch1", "/scratch2", "/scratch3", "/scratch4", "/scratch5", "/scratch6"}) {
    std::remove((dir + name).c_str());
  }
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
