// BatchHold: a batch is held over busy loop turns, and goes once a turn finds
// nothing new, after kMaxTurns turns, or after kMaxWait.
#include "../engine/batch_hold.h"

#include <cstdio>

#include "check.h"

using muxftpd::BatchHold;
using std::chrono::microseconds;

namespace {

const BatchHold::Clock::time_point t0{};

void QuietTurnDelivers() {
  BatchHold h;
  CHECK(h.Deliver(0, t0));  // nothing else was ready: the worker would sleep next
  CHECK(!h.Deliver(3, t0));
  CHECK(h.Deliver(0, t0 + microseconds(1)));
}

void BusyTurnsAreBoundedInCount() {
  BatchHold h;
  for (int i = 1; i < BatchHold::kMaxTurns; ++i) CHECK(!h.Deliver(5, t0 + microseconds(i)));
  CHECK(h.Deliver(5, t0 + microseconds(BatchHold::kMaxTurns)));
  // The next batch starts a fresh count.
  CHECK(!h.Deliver(5, t0 + microseconds(50)));
}

void BusyTurnsAreBoundedInTime() {
  BatchHold h;
  CHECK(!h.Deliver(1, t0));
  CHECK(h.Deliver(1, t0 + BatchHold::kMaxWait));
  CHECK(!h.Deliver(1, t0 + BatchHold::kMaxWait + microseconds(1)));
}

}  // namespace

int main() {
  QuietTurnDelivers();
  BusyTurnsAreBoundedInCount();
  BusyTurnsAreBoundedInTime();
  std::printf("batch_hold_test: ok\n");
  return 0;
}
