// SPDX-License-Identifier: MIT
// The programs and vDSO images agree with the kernel's view of them: the
// critical sections are where the ranges say, with the right slot width,
// and only the vDSO sequence lies inside a range.
#include <gtest/gtest.h>

#include <string>

#include "model/programs.hpp"

namespace rfutex::model {
namespace {

const cs_range* range_containing(const program& p, std::uint64_t ip) {
  for (const auto& r : p.vdso_ranges)
    if (ip >= r.start && ip < r.start + r.len) return &r;
  return nullptr;
}

TEST(ModelPrograms, EveryProgramIsWellFormed) {
  for (protocol pr : all_protocols) {
    for (arch a : {arch::x86_64, arch::i386, arch::arm64}) {
      const program p = make_program(pr, a);
      SCOPED_TRACE(p.name);
      ASSERT_FALSE(p.code.empty());
      EXPECT_EQ(p.code[0].code, op::set_pending);
      int dones = 0, releases = 0;
      for (std::size_t i = 0; i < p.code.size(); ++i) {
        const instruction& ins = p.code[i];
        EXPECT_LT(ins.target, p.code.size());
        dones += ins.code == op::done;
        releases += ins.code == op::cmpxchg || ins.code == op::exchange || ins.code == op::stlxr ||
                    ins.code == op::sys_robust_unlock || ins.code == op::sys_wake_op;
        // Control never falls off the end: the last instruction jumps or ends.
        if (i + 1 == p.code.size()) {
          EXPECT_TRUE(ins.code == op::jump || ins.code == op::done);
        }
      }
      EXPECT_EQ(dones, 1);
      // glibc and rfutex's earlier guarded release have one release for both
      // paths (an unconditional exchange); the others one per path.
      const bool one_release = pr == protocol::glibc || pr == protocol::guarded_v1;
      EXPECT_GE(releases, one_release ? 1 : 2);
      EXPECT_EQ(p.pending_slot_bytes, a == arch::i386 ? 4u : 8u);
    }
  }
}

// What vdso_futex_robust_unlock_update_ips() records: x86_64 two slots
// (list64, list32 with pop_size32); a 32-bit image only the list32 one.
TEST(ModelPrograms, VdsoRangesPerArch) {
  const program x64 = make_program(protocol::vdso, arch::x86_64);
  ASSERT_EQ(x64.vdso_ranges.size(), 2u);
  EXPECT_FALSE(x64.vdso_ranges[0].pop_size32);
  EXPECT_TRUE(x64.vdso_ranges[1].pop_size32);
  const program x32 = make_program(protocol::vdso, arch::i386);
  ASSERT_EQ(x32.vdso_ranges.size(), 2u);
  EXPECT_EQ(x32.vdso_ranges[0].len, 0u);
  EXPECT_TRUE(x32.vdso_ranges[1].pop_size32);
  const program a64 = make_program(protocol::vdso, arch::arm64);
  ASSERT_EQ(a64.vdso_ranges.size(), 1u);
}

// The vDSO program's cs_start and cs_success lie in exactly the range whose
// slot width is the program's; cs_end and everything else lie outside.
TEST(ModelPrograms, OnlyTheCriticalSectionIsInARange) {
  for (protocol pr : all_protocols) {
    for (arch a : {arch::x86_64, arch::i386, arch::arm64}) {
      const program p = make_program(pr, a);
      SCOPED_TRACE(p.name);
      int inside = 0;
      for (const instruction& i : p.code) {
        const cs_range* r = range_containing(p, i.address());
        const bool in_cs = pr == protocol::vdso && (i.label == "cs_start" || i.label == "cs_success");
        EXPECT_EQ(r != nullptr, in_cs) << describe_location(i);
        if (!r) continue;
        ++inside;
        EXPECT_EQ(r->pop_size32, p.pending_slot_bytes == 4);
        if (i.label == "cs_success") {
          EXPECT_EQ(r->success, i.address());
        }
        if (i.label == "cs_start") {
          EXPECT_EQ(r->start, i.address());
        }
      }
      EXPECT_EQ(inside, pr == protocol::vdso ? 2 : 0);
    }
  }
}

TEST(ModelPrograms, LocationsNameModuleOffsetAndLabel) {
  const program p = make_program(protocol::vdso, arch::x86_64);
  int found = 0;
  for (const instruction& i : p.code) {
    if (i.label != "cs_start") continue;
    ++found;
    EXPECT_EQ(describe_location(i), "vdso+0x08 <cs_start>");
  }
  EXPECT_EQ(found, 1);
}

}  // namespace
}  // namespace rfutex::model
