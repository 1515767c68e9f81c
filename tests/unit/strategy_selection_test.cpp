// SPDX-License-Identifier: MIT
// rfutex picks the unlock strategy from what the kernel offers, and
// RFUTEX_UNLOCK overrides it — loudly when the kernel cannot do what it asks.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "linux/capabilities.hpp"
#include "process.hpp"
#include "rfutex/capabilities.hpp"
#include "rfutex/strategy.hpp"

namespace {

using rfutex::unlock_strategy;

// major * 1000 + minor of a release string such as "7.2.13+deb14-cloud-amd64".
int version_of(const std::string& release) {
  int major = 0, minor = 0;
  std::sscanf(release.c_str(), "%d.%d", &major, &minor);
  return major * 1000 + minor;
}

TEST(StrategySelection, TheBestStrategyMatchesWhatTheKernelOffers) {
  const auto& caps = rfutex::capabilities();
  const bool has_vdso = rfutex::sys::probe().try_unlock != nullptr;
  if (has_vdso && caps.robust_unlock_flag)
    EXPECT_EQ(caps.best_strategy, unlock_strategy::kernel);
  else if (caps.robust_unlock_flag)
    EXPECT_EQ(caps.best_strategy, unlock_strategy::hybrid);
  else
    EXPECT_EQ(caps.best_strategy, unlock_strategy::guarded);
}

// The fix is in every x86 kernel from 7.2 on: there, a process must find it.
// Before 7.2 the flag must be rejected with ENOSYS.
TEST(StrategySelection, X86KernelsFrom7_2OfferTheKernelStrategy) {
  const auto& caps = rfutex::capabilities();
  const std::string machine = caps.kernel_machine;
  const bool x86 = machine == "x86_64" || machine == "i686" || machine == "i386";
  if (!x86) GTEST_SKIP() << "the 7.2 vDSO try-unlock is x86-only; kernel is " << machine;
  if (version_of(caps.kernel_release) >= 7002) {
    EXPECT_TRUE(caps.robust_unlock_flag);
    EXPECT_NE(rfutex::sys::probe().try_unlock, nullptr);
    EXPECT_EQ(caps.best_strategy, unlock_strategy::kernel);
  } else {
    EXPECT_FALSE(caps.robust_unlock_flag);
    EXPECT_EQ(caps.robust_unlock_errno, ENOSYS);
    EXPECT_EQ(caps.vdso_try_unlock64, nullptr);
    EXPECT_EQ(caps.vdso_try_unlock32, nullptr);
    EXPECT_EQ(caps.best_strategy, unlock_strategy::guarded);
  }
}

// arm64 from 7.2 on has FUTEX_ROBUST_UNLOCK but no vDSO try-unlock (its port
// is not merged): a process there must choose hybrid.
TEST(StrategySelection, Arm64KernelsFrom7_2OfferTheHybridStrategy) {
  const auto& caps = rfutex::capabilities();
  if (caps.kernel_machine != "aarch64") GTEST_SKIP() << "an arm64 rule; kernel is " << caps.kernel_machine;
  if (version_of(caps.kernel_release) < 7002) GTEST_SKIP() << "FUTEX_ROBUST_UNLOCK is 7.2's; kernel is " << caps.kernel_release;
  EXPECT_TRUE(caps.robust_unlock_flag);
  if (rfutex::sys::probe().try_unlock == nullptr) {
    EXPECT_EQ(caps.best_strategy, unlock_strategy::hybrid);
  } else {
    EXPECT_EQ(caps.best_strategy, unlock_strategy::kernel) << "a kernel with the arm64 vDSO unlock";
  }
}

// The tool sits at tools/rfutex in the build tree; this binary at tests/unit/.
std::string tool_path() { return rfutex::test::build_tree_path("tools/rfutex"); }

// Runs `rfutex info --json` with RFUTEX_UNLOCK set to `value` (nullptr: unset).
rfutex::test::program_result run_info(const char* value) {
  return rfutex::test::run_program(tool_path(), {"info", "--json"},
                                   {{"RFUTEX_UNLOCK", value}});
}

class StrategyOverride : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(tool_path().c_str(), X_OK) != 0)
      GTEST_SKIP() << "the rfutex tool is not built beside the tests (" << tool_path() << ")";
  }
};

TEST_F(StrategyOverride, UnsetMeansTheBestTheKernelOffers) {
  const auto r = run_info(nullptr);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string best(to_string(rfutex::capabilities().best_strategy));
  EXPECT_NE(r.output.find("\"strategy\":\"" + best + "\""), std::string::npos) << r.output;
}

TEST_F(StrategyOverride, GuardedCanAlwaysBeForced) {
  const auto r = run_info("guarded");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"strategy\":\"guarded\""), std::string::npos) << r.output;
}

TEST_F(StrategyOverride, KernelIsRefusedWithEnosysWhereTheKernelLacksIt) {
  const auto r = run_info("kernel");
  if (rfutex::capabilities().best_strategy == unlock_strategy::kernel) {
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("\"strategy\":\"kernel\""), std::string::npos) << r.output;
  } else {
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("\"strategy\":\"error\""), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("RFUTEX_UNLOCK=kernel"), std::string::npos) << r.output;
  }
}

TEST_F(StrategyOverride, NonsenseIsRefusedWithTheListOfChoices) {
  const auto r = run_info("fastest");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("expected one of auto, kernel, hybrid, guarded"), std::string::npos)
      << r.output;
}

}  // namespace
