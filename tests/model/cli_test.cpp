// SPDX-License-Identifier: MIT
// `rfutex model` as scripts use it: exit status 0 (all hold), 1 (violation),
// 2 (bad arguments, message on stderr). Runs the built tool; skipped where
// it is not built.
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "process.hpp"

namespace {

std::string tool() { return rfutex::test::build_tree_path("tools/rfutex"); }

struct outcome {
  int status = -1;
  std::string out;  // stdout and stderr together
};

// Runs `rfutex model <arguments>` (whitespace-separated; no shell needed, so
// this also runs inside the VM).
outcome run(const std::string& arguments) {
  std::vector<std::string> args{"model"};
  std::istringstream in(arguments);
  for (std::string a; in >> a;) args.push_back(a);
  const auto r = rfutex::test::run_program(tool(), args);
  return {r.exit_code, r.output};
}

class ModelCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(tool().c_str(), X_OK) != 0) GTEST_SKIP() << "rfutex tool not built beside the tests";
  }
};

TEST_F(ModelCli, HoldingRunExitsZero) {
  const outcome o = run("--protocol vdso --arch x86_64");
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_NE(o.out.find("all properties hold"), std::string::npos);
}

TEST_F(ModelCli, ViolationExitsOne) {
  const outcome o = run("--protocol=glibc --arch=i386 --json");
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_EQ(o.out.rfind("{\"protocol\":\"glibc\",\"arch\":\"i386\"", 0), 0u);
}

TEST_F(ModelCli, OptionsReachTheModel) {
  EXPECT_EQ(run("--protocol vdso --arch arm64").status, 1);
  EXPECT_EQ(run("--protocol vdso --arch arm64 --entry-notes-user-irq yes").status, 0);
  EXPECT_EQ(run("--protocol vdso --arch arm64 --entry-notes-user-irq yes --decider naive").status, 1);
  EXPECT_EQ(run("--protocol vdso --arch x86_64 --no-fixup").status, 1);
  EXPECT_EQ(run("--protocol guarded --arch x86_64 --remap raw").status, 1);
  EXPECT_EQ(run("--protocol guarded --arch x86_64 --remap libc").status, 0);
  // The wake-up world's options: the exit rule decides glibc's and vdso's
  // liveness, neither rescues guarded-v1, the new guarded holds under both.
  EXPECT_EQ(run("--protocol vdso --arch x86_64 --pending-wake no-waiters").status, 0);
  EXPECT_EQ(run("--protocol vdso --arch x86_64 --pending-wake owner-zero").status, 1);
  EXPECT_EQ(run("--protocol vdso --arch x86_64 --pending-wake=owner-zero --sleepers 1").status, 0);
  EXPECT_EQ(run("--protocol guarded-v1 --arch x86_64").status, 1);
  EXPECT_EQ(run("--protocol guarded --arch x86_64 --pending-wake owner-zero").status, 0);
  EXPECT_EQ(run("--protocol hybrid --arch x86_64 --pending-wake owner-zero").status, 1);
  const outcome j = run("--protocol guarded-v1 --arch x86_64 --json");
  EXPECT_NE(j.out.find("\"no_lost_wakeup\":false"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"counterexamples\":{\"no_lost_wakeup\":[{\"step\":1,"), std::string::npos);
}

TEST_F(ModelCli, BadArgumentsExitTwo) {
  for (const char* args : {"", "--arch x86_64", "--protocol vdso", "--protocol musl --arch x86_64",
                           "--protocol vdso --arch sparc", "--protocol vdso --arch x86_64 --decider",
                           "--protocol vdso --arch x86_64 --decider any-in-range",
                           "--protocol vdso --arch x86_64 --entry-notes-user-irq maybe",
                           "--protocol vdso --arch x86_64 --frobnicate",
                           "--protocol vdso --protocol glibc --arch x86_64",
                           "--protocol vdso --arch x86_64 --pending-wake 6.x",
                           "--protocol vdso --arch x86_64 --pending-wake",
                           "--protocol vdso --arch x86_64 --sleepers 3",
                           "--protocol vdso --arch x86_64 --sleepers 0",
                           "--protocol vdso --arch x86_64 --sleepers 1 --sleepers 2"}) {
    const outcome o = run(args);
    EXPECT_EQ(o.status, 2) << "args: " << args << "\n" << o.out;
    EXPECT_NE(o.out.find("rfutex model:"), std::string::npos) << args;
  }
}

TEST_F(ModelCli, HelpDocumentsExitStatus) {
  const outcome o = run("--help");
  EXPECT_EQ(o.status, 0);
  EXPECT_NE(o.out.find("Exit status: 0 all properties hold, 1 a violation was found, 2 bad arguments,"),
            std::string::npos);
}

}  // namespace
