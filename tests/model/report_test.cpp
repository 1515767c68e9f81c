// SPDX-License-Identifier: MIT
// The two output formats: the text report names every property and shows
// the trace; the JSON object has the documented keys and escapes strings.
#include <gtest/gtest.h>

#include <string>

#include "model/model.hpp"
#include "model/report.hpp"

namespace rfutex::model {
namespace {

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(ModelReport, TextNamesPropertiesStatesAndTrace) {
  const result r = check(defaults_for(protocol::glibc, arch::x86_64));
  const std::string t = format_text(r);
  EXPECT_NE(t.find("explored " + std::to_string(r.states) + " states"), std::string::npos);
  EXPECT_NE(t.find("no foreign write  VIOLATED"), std::string::npos);
  EXPECT_NE(t.find("no lost lock      holds"), std::string::npos);
  EXPECT_NE(t.find("pending cleared   VIOLATED"), std::string::npos);
  EXPECT_EQ(count(t, "shortest counterexample"), 2u);
  EXPECT_NE(t.find("FOREIGN WRITE"), std::string::npos);
  EXPECT_NE(t.find("violation found"), std::string::npos);
}

TEST(ModelReport, TextOfAHoldingRunHasNoTrace) {
  const std::string t = format_text(check(defaults_for(protocol::vdso, arch::x86_64)));
  EXPECT_EQ(count(t, "holds\n"), 4u);
  EXPECT_EQ(t.find("counterexample"), std::string::npos);
  EXPECT_NE(t.find("all properties hold"), std::string::npos);
}

TEST(ModelReport, JsonHasTheDocumentedShape) {
  options o = defaults_for(protocol::vdso, arch::arm64);
  const result r = check(o);
  const std::string j = format_json(r);
  EXPECT_EQ(j.rfind("{\"protocol\":\"vdso\",\"arch\":\"arm64\",\"options\":{\"fixup\":true,"
                    "\"entry_notes_user_irq\":false,\"decider\":\"correct\",\"remap\":\"libc\",\"guard\":false,"
                    "\"pending_wake\":\"no-waiters\",\"sleepers\":2},",
                    0),
            0u);
  EXPECT_NE(j.find("\"states\":" + std::to_string(r.states) + ","), std::string::npos);
  EXPECT_NE(j.find("\"elapsed_ms\":"), std::string::npos);
  EXPECT_NE(j.find(",\"liveness\":{\"states\":" + std::to_string(r.liveness.states) +
                   ",\"transitions\":" + std::to_string(r.liveness.transitions) + ",\"elapsed_ms\":"),
            std::string::npos);
  EXPECT_NE(j.find("\"properties\":{\"no_foreign_write\":false,\"no_lost_lock\":true,"
                   "\"pending_cleared\":false,\"no_lost_wakeup\":true}"),
            std::string::npos);
  EXPECT_NE(j.find("\"counterexample_property\":\"no_foreign_write\",\"counterexample\":[{\"step\":1,"),
            std::string::npos);
  EXPECT_EQ(j.back(), '\n');
  EXPECT_EQ(count(j, "\n"), 1u);
  // Balanced brackets outside strings: a cheap well-formedness check.
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : j) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    ASSERT_GE(depth, 0);
  }
  EXPECT_EQ(depth, 0);
  EXPECT_FALSE(in_string);
}

TEST(ModelReport, JsonOfAHoldingRun) {
  const std::string j = format_json(check(defaults_for(protocol::guarded, arch::x86_64)));
  EXPECT_NE(j.find("\"all_hold\":true"), std::string::npos);
  EXPECT_NE(j.find("\"counterexample_property\":null,\"counterexample\":[],\"counterexamples\":{}"),
            std::string::npos);
  EXPECT_NE(j.find("\"guard\":true"), std::string::npos);
}

TEST(ModelReport, JsonEscapesStrings) {
  result r = check(defaults_for(protocol::vdso, arch::x86_64));
  r.initial = "a\"b\\c\nd\x01";
  const std::string j = format_json(r);
  EXPECT_NE(j.find(R"("initial":"a\"b\\c\nd\u0001")"), std::string::npos);
}

}  // namespace
}  // namespace rfutex::model
