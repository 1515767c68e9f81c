// SPDX-License-Identifier: MIT
// A fork child is a new thread to rfutex: its own TID in the lock word, its
// own robust list — and none of the parent's locks.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <system_error>

#include "kernel_view.hpp"
#include "process.hpp"
#include "rfutex/robust_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::robust_mutex;
using rfutex::test::child_process;
using rfutex::test::shared;

class Fork : public rfutex::test::strategy_test {};

struct arena {
  robust_mutex held_by_parent;
  robust_mutex taken_by_child;
  pid_t child_saw_owner = 0;
  int child_unlock_errno = 0;
  bool child_list_ok = false;
  rfutex::test::event locked;
};

TEST_F(Fork, TheChildLocksWithItsOwnTidAndDoesNotOwnTheParentsLocks) {
  shared<arena> a;
  ASSERT_EQ(a->held_by_parent.lock(), lock_status::acquired);  // also warms the parent's cache
  auto child = child_process::fork([&] {
    if (a->taken_by_child.lock() != lock_status::acquired) return 1;
    a->child_saw_owner = a->taken_by_child.owner();
    a->child_list_ok = rfutex::test::holds_exactly(
        rfutex::test::view_own_robust_list(),
        {reinterpret_cast<const std::uint32_t*>(&a->taken_by_child)});
    try {
      a->held_by_parent.unlock();
    } catch (const std::system_error& e) {
      a->child_unlock_errno = e.code().value();
    }
    a->locked.set();
    pause();
    return 0;
  });
  a->locked.wait();
  EXPECT_EQ(a->child_saw_owner, child.pid()) << "the child's TID, not the parent's cached one";
  EXPECT_TRUE(a->child_list_ok) << "the child's list holds its lock only";
  EXPECT_EQ(a->child_unlock_errno, EPERM);
  EXPECT_EQ(a->held_by_parent.owner(), getpid()) << "still the parent's";
  child.kill(SIGKILL);
  child.wait();
  // The kernel found the child's lock through the child's (re-registered) list.
  EXPECT_EQ(a->taken_by_child.lock(), lock_status::owner_died);
  a->taken_by_child.make_consistent();
  a->taken_by_child.unlock();
  a->held_by_parent.unlock();
}

TEST_F(Fork, AGrandchildIsNewAgain) {
  shared<arena> a;
  ASSERT_EQ(a->held_by_parent.lock(), lock_status::acquired);
  a->held_by_parent.unlock();
  auto child = child_process::fork([&] {
    if (a->held_by_parent.lock() != lock_status::acquired) return 3;
    a->held_by_parent.unlock();
    auto grandchild = child_process::fork([&] {
      if (a->taken_by_child.lock() != lock_status::acquired) return 1;
      a->child_saw_owner = a->taken_by_child.owner();
      _exit(0);
      return 0;
    });
    return rfutex::test::exited_with(grandchild.wait(), 0) ? 0 : 2;
  });
  EXPECT_TRUE(rfutex::test::exited_with(child.wait(), 0));
  EXPECT_NE(a->child_saw_owner, getpid());
  EXPECT_NE(a->child_saw_owner, 0);
  EXPECT_EQ(a->taken_by_child.lock(), lock_status::owner_died);
  a->taken_by_child.make_consistent();
  a->taken_by_child.unlock();
}

}  // namespace
