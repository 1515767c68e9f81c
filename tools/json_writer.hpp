// A minimal streaming JSON writer for the tool's --json outputs: objects,
// arrays, strings, numbers, booleans — no dependencies.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace rfutex::tool {

class json_writer {
 public:
  explicit json_writer(std::FILE* out) : out_(out) {}

  json_writer& begin_object(std::string_view key = {}) { return open(key, '{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array(std::string_view key = {}) { return open(key, '['); }
  json_writer& end_array() { return close(']'); }

  json_writer& field(std::string_view key, std::string_view value) {
    prefix(key);
    quoted(value);
    return *this;
  }
  json_writer& field(std::string_view key, const char* value) {
    return field(key, std::string_view(value));
  }
  json_writer& field(std::string_view key, bool value) {
    prefix(key);
    std::fputs(value ? "true" : "false", out_);
    return *this;
  }
  json_writer& field(std::string_view key, std::int64_t value) {
    prefix(key);
    std::fprintf(out_, "%lld", static_cast<long long>(value));
    return *this;
  }
  json_writer& field(std::string_view key, double value) {
    prefix(key);
    std::fprintf(out_, "%.3f", value);
    return *this;
  }
  json_writer& null_field(std::string_view key) {
    prefix(key);
    std::fputs("null", out_);
    return *this;
  }
  // Pointers print as "0x..." strings, or null.
  json_writer& field(std::string_view key, const void* p) {
    if (p == nullptr) return null_field(key);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", p);
    return field(key, std::string_view(buf));
  }

  void finish() { std::fputc('\n', out_); }

 private:
  json_writer& open(std::string_view key, char bracket) {
    prefix(key);
    std::fputc(bracket, out_);
    first_.push_back(true);
    return *this;
  }
  json_writer& close(char bracket) {
    first_.pop_back();
    std::fputc(bracket, out_);
    return *this;
  }
  void prefix(std::string_view key) {
    if (!first_.empty()) {
      if (!first_.back()) std::fputc(',', out_);
      first_.back() = false;
    }
    if (!key.empty()) {
      quoted(key);
      std::fputc(':', out_);
    }
  }
  void quoted(std::string_view s) {
    std::fputc('"', out_);
    for (const char c : s) {
      switch (c) {
        case '"': std::fputs("\\\"", out_); break;
        case '\\': std::fputs("\\\\", out_); break;
        case '\n': std::fputs("\\n", out_); break;
        case '\t': std::fputs("\\t", out_); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20)
            std::fprintf(out_, "\\u%04x", static_cast<unsigned>(c));
          else
            std::fputc(c, out_);
      }
    }
    std::fputc('"', out_);
  }

  std::FILE* out_;
  std::vector<bool> first_;
};

}  // namespace rfutex::tool
