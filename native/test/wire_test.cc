// The wire codec: events land at the offsets protocol.h declares, actions
// written at those offsets decode back, and malformed buffers are refused
// whole. (test/unit/wire.test.ts checks the TypeScript side against this codec.)
#include "../engine/wire.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "action_bytes.h"
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

// What the addon does with a post: the JS thread checks and routes records
// by session (ForEachActionRecord), the worker decodes them into actions it
// reuses from one post to the next.
void CheckedRecordsAreWalkedAndDecodedIntoReusedActions() {
  std::string buf = ActionRecord(ActionType::kReply, 3, "200 a\r\n", "", "") + ActionRecord(ActionType::kClose, 4, "", "", "");
  CHECK(CheckActions(buf.data(), buf.size()));
  std::vector<SessionId> sids;
  size_t walked = 0;
  ForEachActionRecord(buf.data(), buf.size(), [&](SessionId sid, const char* record, size_t size) {
    CHECK(record == buf.data() + walked);
    sids.push_back(sid);
    walked += size;
  });
  CHECK(sids == (std::vector<SessionId>{3, 4}) && walked == buf.size());
  std::vector<Action> out;
  CHECK(DecodeActions(buf.data(), buf.size(), &out) && out.size() == 2);
  std::string next = ActionRecord(ActionType::kListenPassive, 5, "", "229 (|||%P|)\r\n", "425 No.\r\n");
  CHECK(DecodeActions(next.data(), next.size(), &out) && out.size() == 1);
  CHECK(out[0].type == ActionType::kListenPassive && out[0].sid == 5 && out[0].data.empty());
  CHECK(out[0].preamble == "229 (|||%P|)\r\n" && out[0].epilogue == "425 No.\r\n");
  CHECK(CheckActions(nullptr, 0));
}

// The native tests' encoder (action_bytes.h) writes what the codec reads.
void TestEncoderRoundTrips() {
  Action a{};
  a.type = ActionType::kRecvFile;
  a.sid = 77;
  a.seq = 9;
  a.offset = 1u << 20;
  a.mode = WriteMode::kAppend;
  a.flags = 1;
  a.data = "up/file";
  a.preamble = "150 Go.\r\n";
  a.epilogue = "226 Done.\r\n";
  std::string bytes = test::ActionBytes({a});
  std::vector<Action> out;
  CHECK(DecodeActions(bytes.data(), bytes.size(), &out) && out.size() == 1);
  const Action& b = out[0];
  CHECK(b.type == a.type && b.sid == a.sid && b.seq == a.seq && b.offset == a.offset && b.mode == a.mode);
  CHECK(b.flags == a.flags && b.data == a.data && b.preamble == a.preamble && b.epilogue == a.epilogue);
}

}  // namespace

int main() {
  EventsLandAtDeclaredOffsets();
  ActionsDecode();
  MalformedIsRefusedWhole();
  CheckedRecordsAreWalkedAndDecodedIntoReusedActions();
  TestEncoderRoundTrips();
  std::printf("wire_test: ok\n");
  return 0;
}
