#include "engine.h"

#include <algorithm>
#include <cerrno>

#include "acceptor.h"
#include "client_ledger.h"
#include "file_jobs.h"
#include "file_ops.h"
#include "tls_context.h"
#include "wire.h"
#include "worker.h"

namespace muxftpd {

// Threads for the sessions' file-system operations: enough that one waiting on
// a slow disk does not hold up every SIZE and CWD, few enough to stay cheap.
constexpr int kFileOpThreads = 2;

Engine::Engine()
    : file_jobs_(std::make_unique<FileJobs>()), file_ops_(std::make_unique<FileOps>(kFileOpThreads)) {}

Engine::~Engine() { Stop(); }

int Engine::Start(const EngineConfig& config, EventSink* sink, std::string* where) {
  config_ = config;
  if (config_.threads < 1) config_.threads = 1;
  // Every session costs an fd (two while it transfers): use all we may have.
  fd_limit_ = sys::RaiseFdLimit();
  int fd = sys::OpenDirectory(config_.root);
  if (fd < 0) {
    *where = "open root directory '" + config_.root + "'";
    return fd;
  }
  root_ = std::make_shared<const UniqueFd>(fd);
  ClientLedger::Limits limits{static_cast<uint32_t>(std::max(config_.max_clients, 0)),
                              static_cast<uint32_t>(std::max(config_.max_per_ip, 0))};
  int r = config_.ledger_fd.value < 0 ? ClientLedger::CreatePrivate(limits, &ledger_)
                                      : ClientLedger::Attach(config_.ledger_fd.value, limits, &ledger_);
  if (r < 0) {
    *where = config_.ledger_fd.value < 0 ? "create the client ledger"
                                         : "map the client ledger fd " + std::to_string(config_.ledger_fd.value);
    return r;
  }
  if (config_.tls.enabled) {
    std::string error;
    r = TlsContext::Create(config_.tls, &tls_, &error);
    if (r < 0) {
      *where = "set up TLS (" + error + ")";
      return r;
    }
  }
  std::vector<Worker*> raw;
  for (int i = 0; i < config_.threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, config_, root_, sink, file_jobs_.get(), file_ops_.get(),
                                                ledger_.get(), tls_.get()));
    raw.push_back(workers_.back().get());
    r = workers_.back()->Init();
    if (r < 0) {
      *where = "create worker " + std::to_string(i);
      workers_.clear();
      return r;
    }
  }
  acceptor_ = std::make_unique<Acceptor>(config_, raw, ledger_.get(), sink);
  r = acceptor_->Bind(where);
  if (r < 0) {
    acceptor_.reset();
    workers_.clear();
    return r;
  }
  file_jobs_->Start();
  file_ops_->Start();
  for (auto& w : workers_) w->Start();
  acceptor_->Start();
  running_ = true;
  return 0;
}

void Engine::Post(const char* p, size_t n) {
  if (!running_ || n == 0) return;
  size_t workers = workers_.size();
  if (workers == 1) {
    workers_[0]->Post(p, n);
    return;
  }
  // One post per worker, each record to its session's worker (through
  // buffers kept from call to call).
  route_.resize(workers);
  ForEachActionRecord(p, n, [&](SessionId sid, const char* record, size_t size) {
    std::vector<char>& to = route_[sid % workers];
    to.insert(to.end(), record, record + size);
  });
  for (size_t i = 0; i < workers; ++i) {
    if (route_[i].empty()) continue;
    workers_[i]->Post(route_[i].data(), route_[i].size());
    route_[i].clear();
  }
}

void Engine::BatchConsumed(int worker) {
  if (worker >= 0 && static_cast<size_t>(worker) < workers_.size()) {
    workers_[worker]->BatchConsumed();
  }
}

void Engine::StopAccepting() {
  if (running_) acceptor_->Stop();
}

void Engine::Stop() {
  if (!running_) return;
  running_ = false;
  acceptor_->Stop();
  for (auto& w : workers_) w->Stop();
  file_ops_->Stop();   // before the workers go: its answers are handed to them
  file_jobs_->Stop();  // after the workers: their last transfers may hand it files
  // Release every fd now, not when the owner happens to be destroyed (a JS
  // object waits for the garbage collector).
  acceptor_.reset();
  workers_.clear();
  ledger_.reset();  // after everything that releases into it
  tls_.reset();
  root_.reset();
}

SockAddr Engine::BoundAddress() const {
  return acceptor_ ? acceptor_->bound() : SockAddr{};
}

SockAddr Engine::ImplicitTlsAddress() const {
  return acceptor_ ? acceptor_->implicit_bound() : SockAddr{};
}

EngineStats Engine::Stats() const {
  EngineStats stats;
  stats.fd_limit = fd_limit_;
  for (const auto& w : workers_) {
    int c = w->clients.load();
    stats.per_worker.push_back(c);
    stats.sessions += c;
    stats.loops.push_back(w->LoopStats());
    w->AddTlsStats(&stats.tls);
    stats.passive_control_peer += w->PassiveControlPeer();
  }
  if (acceptor_) {
    stats.accepted = acceptor_->accepted();
    stats.rejected = acceptor_->rejected();
    stats.rejected_per_ip = acceptor_->rejected_per_ip();
  }
  return stats;
}

}  // namespace muxftpd
