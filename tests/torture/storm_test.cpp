// SPDX-License-Identifier: MIT
// A short storm of `rfutex torture` on each strategy: PASS, with
// every figure that proves the storm did its work (kills of holders, owner
// deaths recovered, regions retired and their replacement files checked).
// RFUTEX_STORM_KILLS sets its length (CI's 7.2 x86_64 boot asks for 2,000).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "process.hpp"
#include "strategy_fixture.hpp"

namespace rfutex::test {
namespace {

// By default short: 300 kills, 200 in the VM (TCG, no KVM: ~10x slower).
long storm_kills() {
  if (const char* n = std::getenv("RFUTEX_STORM_KILLS"); n != nullptr)
    if (const long kills = std::atol(n); kills > 0) return kills;
  return std::getenv("RFUTEX_VM") != nullptr ? 200 : 300;
}

struct storm_outcome {
  int exit_code;
  nlohmann::json figures;
  std::string output;
};

storm_outcome run_storm(const std::vector<std::string>& extra) {
  std::vector<std::string> args{"torture", "--kills", std::to_string(storm_kills()), "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_program(build_tree_path("tools/rfutex"), args);
  storm_outcome o{r.exit_code, nlohmann::json::object(), r.output};
  const auto brace = r.output.rfind("\n{");
  const std::string json = r.output.substr(brace == std::string::npos ? 0 : brace + 1);
  o.figures = nlohmann::json::parse(json, nullptr, false);
  return o;
}

class storm_test : public strategy_test {};

TEST_F(storm_test, ShortStormPasses) {
  const storm_outcome o = run_storm({"--seed", "7"});
  ASSERT_FALSE(o.figures.is_discarded()) << o.output;
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_EQ(o.figures["verdict"], "PASS") << o.output;
  EXPECT_EQ(o.figures["kills"], storm_kills()) << o.output;
  EXPECT_GT(o.figures["kills_while_holding"].get<long>(), 0) << o.output;
  EXPECT_GT(o.figures["recoveries"].get<long>(), 0) << o.output;
  EXPECT_GT(o.figures["unmaps"].get<long>(), 0) << o.output;
  EXPECT_GT(o.figures["files_checked"].get<long>(), 0) << o.output;
  EXPECT_EQ(o.figures["foreign_bytes_changed"], 0) << o.output;
  EXPECT_EQ(o.figures["strategy"], std::string(to_string(strategy_))) << o.output;
}

TEST(storm_arguments, BadArgumentsAreRejected) {
  const std::string tool = build_tree_path("tools/rfutex");
  EXPECT_EQ(run_program(tool, {"torture", "--threads", "2"}).exit_code, 2);
  EXPECT_EQ(run_program(tool, {"torture", "--unmap", "libc"}).exit_code, 2);
  EXPECT_EQ(run_program(tool, {"torture", "--kills", "-1"}).exit_code, 2);
  EXPECT_EQ(run_program(tool, {"torture", "--bogus"}).exit_code, 2);
}

}  // namespace
}  // namespace rfutex::test
