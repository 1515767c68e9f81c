// `rfutex model` as scripts use it: exit status 0 (all hold), 1 (violation),
// 2 (bad arguments, message on stderr). Runs the built tool; skipped where
// it is not available (a build without tools, or inside the VM).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <unistd.h>

namespace {

#ifdef RFUTEX_TOOL_PATH
constexpr const char* tool = RFUTEX_TOOL_PATH;
#else
constexpr const char* tool = nullptr;
#endif

struct outcome {
  int status = -1;
  std::string out;  // stdout and stderr together
};

outcome run(const std::string& arguments) {
  outcome o;
  const std::string cmd = std::string(tool) + " model " + arguments + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return o;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) o.out.append(buf, n);
  const int st = pclose(p);
  o.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return o;
}

class ModelCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (tool == nullptr || access(tool, X_OK) != 0) GTEST_SKIP() << "rfutex tool not available";
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
}

TEST_F(ModelCli, BadArgumentsExitTwo) {
  for (const char* args : {"", "--arch x86_64", "--protocol vdso", "--protocol musl --arch x86_64",
                           "--protocol vdso --arch sparc", "--protocol vdso --arch x86_64 --decider",
                           "--protocol vdso --arch x86_64 --decider any-in-range",
                           "--protocol vdso --arch x86_64 --entry-notes-user-irq maybe",
                           "--protocol vdso --arch x86_64 --frobnicate",
                           "--protocol vdso --protocol glibc --arch x86_64"}) {
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
