// A JSON object written field by field: all ftpload prints is one object a
// line (progress ticks, the summary), read by bench/client/report.ts.
#ifndef MUXFTPD_BENCH_FTPLOAD_JSON_WRITER_H_
#define MUXFTPD_BENCH_FTPLOAD_JSON_WRITER_H_

#include <cstdint>
#include <map>
#include <string>

namespace muxftpd::ftpload {

// s as the inside of a JSON string: quotes, backslashes and control characters escaped.
std::string JsonEscape(const std::string& s);

class JsonObject {
 public:
  JsonObject& String(const char* key, const std::string& value);
  JsonObject& Number(const char* key, uint64_t value);
  JsonObject& Number(const char* key, int value);
  // A fixed-point number with `decimals` digits after the point (seconds).
  JsonObject& Fixed(const char* key, double value, int decimals);
  // A value that is JSON already (an object or array written elsewhere).
  JsonObject& Raw(const char* key, const std::string& json);
  // {"name": count, ...} in the map's (sorted) order.
  JsonObject& Counts(const char* key, const std::map<std::string, uint64_t>& counts);
  // The object, closed.
  std::string Text() const { return text_ + "}"; }

 private:
  std::string& Key(const char* key);
  std::string text_ = "{";
};

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_JSON_WRITER_H_
