#include "json_writer.h"

#include <cstdio>

namespace muxftpd::ftpload {

std::string JsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += c;
    }
  }
  return o;
}

std::string& JsonObject::Key(const char* key) {
  if (text_.size() > 1) text_ += ',';
  text_ += '"';
  text_ += key;
  text_ += "\":";
  return text_;
}

JsonObject& JsonObject::String(const char* key, const std::string& value) {
  Key(key) += "\"" + JsonEscape(value) + "\"";
  return *this;
}

JsonObject& JsonObject::Number(const char* key, uint64_t value) {
  Key(key) += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::Number(const char* key, int value) {
  Key(key) += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::Fixed(const char* key, double value, int decimals) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", decimals, value);
  Key(key) += b;
  return *this;
}

JsonObject& JsonObject::Raw(const char* key, const std::string& json) {
  Key(key) += json;
  return *this;
}

JsonObject& JsonObject::Counts(const char* key, const std::map<std::string, uint64_t>& counts) {
  JsonObject inner;
  for (const auto& [name, n] : counts) inner.Key(JsonEscape(name).c_str()) += std::to_string(n);
  return Raw(key, inner.Text());
}

}  // namespace muxftpd::ftpload
