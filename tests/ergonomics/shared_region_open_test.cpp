// SPDX-License-Identifier: MIT
// shared_region's named objects: create, attach from an unrelated process
// (one that opens the name, not one that inherited the mapping), say which
// happened, and remove. An attaching process sees live locks as they are.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "process.hpp"
#include "rfutex/robust_mutex.hpp"
#include "rfutex/shared_region.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::open_mode;
using rfutex::shared_region;
using rfutex::test::child_process;

// A name no other test run uses; removed again by the fixture.
class SharedRegionOpen : public rfutex::test::strategy_test {
 protected:
  void TearDown() override {
    shared_region::remove_shm(name_);
    shared_region::remove_file(path_);
  }
  const std::string name_ = "/rfutex-open-test-" + std::to_string(getpid());
  const std::string path_ = ::testing::TempDir() + "rfutex-open-test-" + std::to_string(getpid());
};

// errno and message of what `f` throws.
template <class F>
std::pair<int, std::string> error_of(F f) {
  try {
    f();
  } catch (const std::system_error& e) {
    return {e.code().value(), e.what()};
  }
  return {0, ""};
}

TEST_F(SharedRegionOpen, CreateOrOpenSaysWhichHappened) {
  auto first = shared_region::shm(name_, 4096, open_mode::create_or_open);
  EXPECT_TRUE(first.created());
  auto second = shared_region::shm(name_, 4096, open_mode::create_or_open);
  EXPECT_FALSE(second.created());
  static_cast<char*>(first.data())[100] = 42;
  EXPECT_EQ(static_cast<char*>(second.data())[100], 42) << "the same object";
}

TEST_F(SharedRegionOpen, CreateOnlyRefusesAnExistingObjectAndNamesIt) {
  auto region = shared_region::shm(name_, 4096, open_mode::create_only);
  EXPECT_TRUE(region.created());
  const auto [error, what] = error_of([&] { (void)shared_region::shm(name_, 4096, open_mode::create_only); });
  EXPECT_EQ(error, EEXIST);
  EXPECT_NE(what.find(name_), std::string::npos) << what;
}

TEST_F(SharedRegionOpen, OpenOnlyRefusesAMissingObjectAndNamesIt) {
  const auto [error, what] = error_of([&] { (void)shared_region::shm(name_, 0, open_mode::open_only); });
  EXPECT_EQ(error, ENOENT);
  EXPECT_NE(what.find(name_), std::string::npos) << what;
  const auto [file_error, file_what] = error_of([&] { (void)shared_region::file(path_, 0, open_mode::open_only); });
  EXPECT_EQ(file_error, ENOENT);
  EXPECT_NE(file_what.find(path_), std::string::npos) << file_what;
}

TEST_F(SharedRegionOpen, LengthZeroAttachesToTheWholeObject) {
  auto created = shared_region::file(path_, 8192, open_mode::create_only);
  auto attached = shared_region::file(path_, 0, open_mode::open_only);
  EXPECT_EQ(attached.size(), 8192u);
  EXPECT_FALSE(attached.created());
}

TEST_F(SharedRegionOpen, LengthZeroOfAnEmptyObjectIsEinval) {
  const auto [error, what] = error_of([&] { (void)shared_region::shm(name_, 0, open_mode::create_or_open); });
  EXPECT_EQ(error, EINVAL);
  EXPECT_NE(what.find("empty"), std::string::npos) << what;
}

TEST_F(SharedRegionOpen, PermissionsApplyToANewObject) {
  const mode_t old_mask = ::umask(0);
  auto region = shared_region::file(path_, 4096, open_mode::create_only, 0640);
  ::umask(old_mask);
  struct stat st {};
  ASSERT_EQ(::fstat(region.fd(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(SharedRegionOpen, RemoveSaysWhetherThereWasSomethingToRemove) {
  { auto region = shared_region::shm(name_, 4096, open_mode::create_only); }
  EXPECT_TRUE(shared_region::remove_shm(name_));
  EXPECT_FALSE(shared_region::remove_shm(name_));
  { auto region = shared_region::file(path_, 4096, open_mode::create_only); }
  EXPECT_TRUE(shared_region::remove_file(path_));
  EXPECT_FALSE(shared_region::remove_file(path_));
}

// A process that only knows the name attaches and finds the mutex exactly
// as the creator's process left it: held, then owner-dead once it dies.
TEST_F(SharedRegionOpen, AnAttachingProcessSeesTheLiveLockAndItsOwnersDeath) {
  auto region = shared_region::shm(name_, 4096, open_mode::create_only);
  auto* m = region.construct<rfutex::robust_mutex>();
  int to_holder[2], from_holder[2];
  ASSERT_EQ(::pipe(to_holder), 0);
  ASSERT_EQ(::pipe(from_holder), 0);
  auto holder = child_process::fork([&] {
    if (m->lock() != rfutex::lock_status::acquired) return 1;
    const pid_t tid = static_cast<pid_t>(gettid());
    if (::write(from_holder[1], &tid, sizeof tid) != sizeof tid) return 2;
    char c;
    (void)::read(to_holder[0], &c, 1);  // until the test is done with us
    return 0;
  });
  ::close(from_holder[1]);  // a holder that fails closes the pipe: read() returns 0
  from_holder[1] = -1;
  pid_t holder_tid = 0;
  ASSERT_EQ(::read(from_holder[0], &holder_tid, sizeof holder_tid), static_cast<ssize_t>(sizeof holder_tid));
  auto attacher = child_process::fork([&] {
    auto mine = shared_region::shm(name_, 0, open_mode::open_only);
    auto* seen = static_cast<rfutex::robust_mutex*>(mine.data());
    if (mine.created() || seen->owner() != holder_tid) return 1;
    if (seen->try_lock().status() != rfutex::try_status::busy) return 2;
    return 0;
  });
  EXPECT_TRUE(rfutex::test::exited_with(attacher.wait(), 0)) << "the attacher saw a different lock";
  holder.kill(SIGKILL);
  holder.wait();
  auto later = child_process::fork([&] {
    auto mine = shared_region::shm(name_, 0, open_mode::create_or_open);
    auto* seen = static_cast<rfutex::robust_mutex*>(mine.data());
    if (mine.created()) return 1;
    if (seen->lock() != rfutex::lock_status::owner_died) return 2;
    seen->make_consistent();
    seen->unlock();
    return 0;
  });
  EXPECT_TRUE(rfutex::test::exited_with(later.wait(), 0)) << "owner death not seen by an attacher";
  for (int fd : {to_holder[0], to_holder[1], from_holder[0]}) ::close(fd);
}

}  // namespace
