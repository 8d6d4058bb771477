// Splits a control connection's byte stream into lines. Pure: no I/O.
//
// A line ends at LF; a CR just before it is dropped (RFC 959 says CRLF, and a
// bare LF is tolerated). A line longer than max_line is reported once, as soon
// as it crosses the limit, and the rest of it is discarded up to its LF, so a
// client that never sends a newline cannot grow memory past max_line.
#ifndef MUXFTPD_ENGINE_LINE_FRAMER_H_
#define MUXFTPD_ENGINE_LINE_FRAMER_H_

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace muxftpd {

class LineFramer {
 public:
  explicit LineFramer(size_t max_line) : max_line_(max_line) {}

  // Calls on_line(std::string_view line, bool too_long) for each line that
  // `data` completes, and for each line that crosses the limit.
  template <typename OnLine>
  void Feed(const char* data, size_t len, OnLine&& on_line) {
    while (len > 0) {
      const char* lf = static_cast<const char*>(memchr(data, '\n', len));
      size_t chunk = lf ? static_cast<size_t>(lf - data) : len;
      if (discarding_) {
        if (lf) discarding_ = false;
      } else if (partial_.size() + chunk > max_line_ + 1) {
        // +1: the CR before the LF does not count against the limit.
        partial_.clear();
        partial_.shrink_to_fit();
        discarding_ = lf == nullptr;
        on_line(std::string_view(), true);
      } else if (lf && partial_.empty()) {
        on_line(StripCr(std::string_view(data, chunk)), false);  // the common case: no copy
      } else {
        partial_.append(data, chunk);
        if (lf) {
          on_line(StripCr(partial_), false);
          partial_.clear();
        }
      }
      if (!lf) return;
      data += chunk + 1;
      len -= chunk + 1;
    }
  }

  size_t Buffered() const { return partial_.size(); }

  // Forgets a partial line: what a client sent after AUTH TLS in clear text
  // is never completed by bytes that arrive over TLS.
  void Reset() {
    partial_.clear();
    partial_.shrink_to_fit();
    discarding_ = false;
  }

 private:
  static std::string_view StripCr(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }

  size_t max_line_;
  std::string partial_;
  bool discarding_ = false;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_LINE_FRAMER_H_
