// LineFramer: CRLF and bare LF, lines split across reads, the length limit.
#include "../engine/line_framer.h"

#include <cstdio>
#include <string>
#include <vector>

#include "check.h"

using muxftpd::LineFramer;

namespace {

struct Seen {
  std::vector<std::string> lines;
  int too_long = 0;
};

void Feed(LineFramer* f, const std::string& bytes, Seen* seen) {
  f->Feed(bytes.data(), bytes.size(), [&](std::string_view line, bool too_long) {
    if (too_long) {
      ++seen->too_long;
    } else {
      seen->lines.emplace_back(line);
    }
  });
}

void CrlfAndBareLf() {
  LineFramer f(100);
  Seen s;
  Feed(&f, "USER a\r\nPASS b\nNOOP\r\n", &s);
  CHECK(s.lines.size() == 3);
  CHECK(s.lines[0] == "USER a" && s.lines[1] == "PASS b" && s.lines[2] == "NOOP");
}

void SplitAtEveryByte() {
  const std::string stream = "RETR a b\r\nSIZE x\r\n\r\nQUIT\r\n";
  LineFramer f(100);
  Seen s;
  for (char c : stream) Feed(&f, std::string(1, c), &s);
  CHECK(s.lines.size() == 4);
  CHECK(s.lines[0] == "RETR a b" && s.lines[2].empty() && s.lines[3] == "QUIT");
  CHECK(f.Buffered() == 0);
}

void BareCrStaysInLine() {
  LineFramer f(100);
  Seen s;
  Feed(&f, "A\rB\r\n", &s);
  CHECK(s.lines.size() == 1 && s.lines[0] == "A\rB");
}

void OverlongLineReportedOnceAndDiscarded() {
  LineFramer f(8);
  Seen s;
  Feed(&f, "123456", &s);
  Feed(&f, "7890123", &s);  // crosses the limit: reported now
  CHECK(s.too_long == 1);
  CHECK(f.Buffered() == 0);
  for (int i = 0; i < 1000; ++i) Feed(&f, "xxxxxxxxxxxxxxxx", &s);  // never grows
  CHECK(f.Buffered() == 0 && s.too_long == 1);
  Feed(&f, "yyy\r\nNOOP\r\n", &s);  // the rest of the long line, then a good one
  CHECK(s.lines.size() == 1 && s.lines[0] == "NOOP");
}

void LimitCountsWithoutCr() {
  LineFramer f(4);
  Seen s;
  Feed(&f, "ABCD\r\nABCDE\r\n", &s);
  CHECK(s.lines.size() == 1 && s.lines[0] == "ABCD");
  CHECK(s.too_long == 1);
}

}  // namespace

int main() {
  CrlfAndBareLf();
  SplitAtEveryByte();
  BareCrStaysInLine();
  OverlongLineReportedOnceAndDiscarded();
  LimitCountsWithoutCr();
  std::printf("line_framer_test: ok\n");
  return 0;
}
