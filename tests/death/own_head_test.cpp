// SPDX-License-Identifier: MIT
// A thread with no registered robust list (a raw clone, or a musl thread
// before its first robust pthread lock) gets rfutex's own head, and the
// kernel recovers its locks through it when it dies.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "kernel_view.hpp"
#include "linux/robust_list.hpp"
#include "process.hpp"
#include "rfutex/capabilities.hpp"
#include "rfutex/robust_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::robust_mutex;
using rfutex::test::child_process;
using rfutex::test::shared;

class OwnHead : public rfutex::test::strategy_test {};

struct arena {
  robust_mutex m[3];
  rfutex::test::event locked;
  int registrar = -1;
  bool list_ok = false;
  bool kernel_sees_our_head = false;
};

TEST_F(OwnHead, IsRegisteredWhereThereIsNoneAndRecoversLocksAtDeath) {
  shared<arena> a;
  auto child = child_process::fork([&] {
    // Forget the head glibc registered: the kernel now knows none.
    if (rfutex::sys::set_robust_list(nullptr, sizeof(rfutex::sys::robust_list_head)) != 0) return 1;
    for (auto& m : a->m)
      if (m.lock() != lock_status::acquired) return 2;
    a->m[1].unlock();  // unlink from the middle of our own list
    if (a->m[1].lock() != lock_status::acquired) return 3;
    const auto report = rfutex::current_robust_list();
    a->registrar = static_cast<int>(report.registrar);
    rfutex::sys::robust_list_head* head = nullptr;
    std::size_t len = 0;
    rfutex::sys::get_robust_list(0, &head, &len);
    a->kernel_sees_our_head = head != nullptr && head == report.head;
    a->list_ok = rfutex::test::holds_exactly(
        rfutex::test::view_own_robust_list(),
        {reinterpret_cast<const std::uint32_t*>(&a->m[0]), reinterpret_cast<const std::uint32_t*>(&a->m[1]),
         reinterpret_cast<const std::uint32_t*>(&a->m[2])});
    a->locked.set();
    pause();
    return 0;
  });
  a->locked.wait();
  EXPECT_EQ(a->registrar, static_cast<int>(rfutex::list_registrar::rfutex));
  EXPECT_TRUE(a->kernel_sees_our_head);
  EXPECT_TRUE(a->list_ok);
  child.kill(SIGKILL);
  child.wait();
  for (auto& m : a->m) {
    ASSERT_EQ(m.lock(), lock_status::owner_died);
    m.make_consistent();
    m.unlock();
  }
}

}  // namespace
