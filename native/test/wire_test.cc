// The wire codec: events land at the offsets protocol.h declares, actions
// written at those offsets decode back, and malformed buffers are refused
// whole. (test/unit/wire.test.ts checks the TypeScript side against this codec.)
#include "../engine/wire.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"

using namespace muxftpd;

namespace {

template <typename T>
T At(const char* record, wire::Field<T> f) {
  return wire::Get(record, f);
}

template <typename T, typename V>
void Set(std::string* record, wire::Field<T> f, V value) {
  wire::Put(record->data(), f, value);
}

void EventsLandAtDeclaredOffsets() {
  std::vector<Event> events(2);
  events[0].type = EventType::kOpen;
  events[0].sid = (uint64_t{1} << 52) + 3;
  events[0].port = 40000;
  events[0].local_port = 2121;
  events[0].text = "127.0.0.1";
  events[0].local = "::1";
  events[1].type = EventType::kClosed;
  events[1].sid = 7;
  events[1].seq = 0xfffffffe;
  events[1].error = -104;
  events[1].bytes = 5'000'000'000;
  events[1].reason = CloseReason::kCloseTimeout;
  std::string out(EncodedSize(events), '\0');
  CHECK(out.size() == 2 * kEventHeader + 9 + 3);
  EncodeEvents(events, out.data());
  namespace f = wire::event;
  const char* r = out.data();
  CHECK(At(r, f::type) == static_cast<uint8_t>(EventType::kOpen));
  CHECK(At(r, f::sid) == static_cast<double>(events[0].sid));
  CHECK(At(r, f::port) == 40000 && At(r, f::localPort) == 2121);
  CHECK(At(r, f::textLength) == 9 && At(r, f::secondLength) == 3);
  CHECK(std::string(r + kEventHeader, 12) == "127.0.0.1::1");
  r += kEventHeader + 12;
  CHECK(At(r, f::type) == static_cast<uint8_t>(EventType::kClosed));
  CHECK(At(r, f::flag) == static_cast<uint8_t>(CloseReason::kCloseTimeout));
  CHECK(At(r, f::seq) == 0xfffffffe && At(r, f::error) == -104);
  CHECK(At(r, f::bytes) == 5e9 && At(r, f::textLength) == 0);
}

std::string ActionRecord(ActionType type, double sid, const std::string& data, const std::string& preamble,
                         const std::string& epilogue) {
  std::string r(kActionHeader, '\0');
  namespace f = wire::action;
  Set(&r, f::type, static_cast<uint8_t>(type));
  Set(&r, f::mode, static_cast<uint8_t>(WriteMode::kAppend));
  Set(&r, f::seq, 42);
  Set(&r, f::sid, sid);
  Set(&r, f::offset, 123456789012.0);
  Set(&r, f::port, 50001);
  Set(&r, f::dataLength, data.size());
  Set(&r, f::preambleLength, preamble.size());
  Set(&r, f::epilogueLength, epilogue.size());
  return r + data + preamble + epilogue;
}

void ActionsDecode() {
  std::string buf = ActionRecord(ActionType::kRecvFile, 9, "dir/file", "150 Go.\r\n", "226 Done.\r\n") +
                    ActionRecord(ActionType::kClose, 10, "", "", "");
  std::vector<Action> out;
  CHECK(DecodeActions(buf.data(), buf.size(), &out));
  CHECK(out.size() == 2);
  CHECK(out[0].type == ActionType::kRecvFile && out[0].mode == WriteMode::kAppend);
  CHECK(out[0].sid == 9 && out[0].seq == 42 && out[0].offset == 123456789012 && out[0].port == 50001);
  CHECK(out[0].data == "dir/file" && out[0].preamble == "150 Go.\r\n" && out[0].epilogue == "226 Done.\r\n");
  CHECK(out[1].type == ActionType::kClose && out[1].sid == 10 && out[1].data.empty());
}

void MalformedIsRefusedWhole() {
  std::string good = ActionRecord(ActionType::kReply, 1, "200 Ok.\r\n", "", "");
  std::vector<Action> out;
  auto refused = [&](const std::string& bad) {
    std::string buf = good + bad;
    return !DecodeActions(buf.data(), buf.size(), &out) && out.empty();
  };
  CHECK(refused(good.substr(0, kActionHeader - 1)));                        // a short header
  CHECK(refused(good.substr(0, good.size() - 1)));                          // a short body
  CHECK(refused(ActionRecord(static_cast<ActionType>(0), 1, "", "", "")));   // an unknown type
  CHECK(refused(ActionRecord(static_cast<ActionType>(200), 1, "", "", "")));
  CHECK(refused(ActionRecord(ActionType::kReply, std::nan(""), "", "", "")));  // a sid that is no integer
  CHECK(refused(ActionRecord(ActionType::kReply, 0x1p53, "", "", "")));
  std::string huge = ActionRecord(ActionType::kReply, 1, "", "", "");
  Set(&huge, wire::action::dataLength, 0xffffffffu);                          // lengths past the end
  Set(&huge, wire::action::preambleLength, 0xffffffffu);
  CHECK(refused(huge));
  CHECK(DecodeActions(good.data(), good.size(), &out) && out.size() == 1);
}

}  // namespace

int main() {
  EventsLandAtDeclaredOffsets();
  ActionsDecode();
  MalformedIsRefusedWhole();
  std::printf("wire_test: ok\n");
  return 0;
}
