// SPDX-License-Identifier: MIT
// librfutex-guard.so protects an unmodified program: under LD_PRELOAD its
// plain munmap / mmap(MAP_FIXED) / mremap / pthread_mutex_destroy scrub the
// stale list_op_pending of a glibc thread that never touched rfutex, when
// (and only when) the memory it points into goes away; without it, nothing
// does (which shows the probe can tell the difference).
#include <gtest/gtest.h>

#include <string>

#include "sanitizer_build.hpp"
#include "process.hpp"

namespace {

struct preload_case {
  const char* call;
  bool memory_goes = true;  // whether the call unmaps the word the slot points at
};

class Preload : public ::testing::TestWithParam<preload_case> {
 protected:
  void SetUp() override {
#if defined(RFUTEX_STATIC_BUILD)
    GTEST_SKIP() << "static build: LD_PRELOAD does not apply";
#endif
#if defined(RFUTEX_TEST_TSAN)
    GTEST_SKIP() << "ThreadSanitizer must see every mmap; the guard maps by raw syscall";
#endif
  }
  static std::string probe() { return rfutex::test::build_tree_path("tests/guard/rfutex_preload_probe"); }
  static std::string guard() { return rfutex::test::build_tree_path("src/librfutex-guard.so"); }
};

TEST_P(Preload, GuardLoadedClearsTheStalePointerExactlyWhenItsMemoryGoes) {
  const auto r = rfutex::test::run_program(probe(), {GetParam().call}, {{"LD_PRELOAD", guard().c_str()}, {"ASAN_OPTIONS", "verify_asan_link_order=0"}});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, GetParam().memory_goes ? "guard=loaded pending=cleared\n"
                                             : "guard=loaded pending=stale\n");
}

TEST_P(Preload, WithoutTheGuardThePointerStaysStale) {
  const auto r = rfutex::test::run_program(probe(), {GetParam().call}, {{"LD_PRELOAD", nullptr}});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "guard=absent pending=stale\n");
}

INSTANTIATE_TEST_SUITE_P(Calls, Preload,
                         ::testing::Values(preload_case{"munmap"}, preload_case{"munmap_part_of_a_page"},
                                           preload_case{"mmap_fixed"},
                                           preload_case{"mremap_shrink_tail"},
                                           preload_case{"mremap_shrink_kept", false},
                                           preload_case{"mremap_grow_kept", false},
                                           preload_case{"mremap_move"},
                                           preload_case{"mremap_fixed_target"},
                                           preload_case{"mutex_destroy"}),
                         [](const auto& p) { return std::string(p.param.call); });

}  // namespace
