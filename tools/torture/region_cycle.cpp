// SPDX-License-Identifier: MIT
// Lock regions retired and replaced by unrelated files (see region_cycle.hpp).
#include "region_cycle.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

#include "rfutex/robust_mutex.hpp"
#include "rfutex/unmap.hpp"

namespace rfutex::tool::torture {

namespace {

constexpr int joins_per_region = 6;

// What the region's lock protects, right after the lock.
struct region_lock {
  robust_mutex m;
  std::uint64_t a = 0, b = 0;      // invariant: a == b outside the critical section
  std::int32_t holder_tid = 0;     // the current holder
  std::int32_t previous_tid = 0;   // the holder before it
};

std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

std::uint32_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return static_cast<std::uint32_t>(x);
}

bool write_file(const std::string& path, const std::vector<std::uint32_t>& words) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const auto* p = reinterpret_cast<const char*>(words.data());
  std::size_t left = words.size() * sizeof(std::uint32_t);
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::close(fd);
  // Renamed only once complete: a worker killed half-way leaves a .tmp,
  // never a pair that differs for that reason.
  return ::rename(tmp.c_str(), path.c_str()) == 0;
}

std::vector<unsigned char> read_all(const std::string& path, bool& ok) {
  std::vector<unsigned char> bytes;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ok = fd >= 0;
  if (!ok) return bytes;
  unsigned char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) ok = false;
    if (n <= 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  ::close(fd);
  return bytes;
}

// Runs `release` with the calling thread at SCHED_IDLE: any other runnable
// thread on its CPU — the waiter it wakes, about to retire the region —
// preempts it as its unlock returns from the kernel, before it clears
// list_op_pending, and it stays off the CPU while the region is replaced.
// That turns the unlock/unmap window of a few instructions into one the
// parent's kills hit. Back to SCHED_OTHER afterwards (allowed within
// RLIMIT_NICE; where refused the thread simply stays slow).
template <class F>
void release_at_idle_priority(F release) {
  sched_param idle{};
  const bool lowered = ::sched_setscheduler(0, SCHED_IDLE, &idle) == 0;
  release();
  if (lowered) {
    sched_param normal{};
    (void)::sched_setscheduler(0, SCHED_OTHER, &normal);
  }
}

void* raw_mmap(void* address, std::size_t length, int flags, int fd) {
  return reinterpret_cast<void*>(::syscall(SYS_mmap, address, length, PROT_READ | PROT_WRITE,
                                           flags, fd, 0));
}

}  // namespace

struct live_region {
  void* address = nullptr;
  std::size_t length = 0;
  int fd = -1;
  std::uint64_t cycle = 0;
  region_lock* lock = nullptr;
  int joins = 0;                     // under region_cycle::mutex_
  // 2 x (members joined and not yet left) | 1 once closed to joins: one
  // word, so that the leave that empties a closed region is unambiguous.
  std::atomic<int> membership{0};
};

region_cycle::region_cycle(control& c, std::uint32_t worker_incarnation)
    : ctl_(c), incarnation_(worker_incarnation) {}

live_region* region_cycle::create_region() {
  auto* r = new live_region();
  r->length = page_size();
  r->cycle = cycles_++;
  r->fd = ::memfd_create("rfutex-torture-region", MFD_CLOEXEC);
  if (r->fd < 0 || ::ftruncate(r->fd, static_cast<off_t>(r->length)) != 0) {
    record_failure(ctl_, "region: memfd: %s", std::strerror(errno));
    std::abort();
  }
  r->address = ::mmap(nullptr, r->length, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
  if (r->address == MAP_FAILED) {
    record_failure(ctl_, "region: mmap: %s", std::strerror(errno));
    std::abort();
  }
  // A different offset every cycle, so that files at the same address see
  // the lock word in different places.
  const std::size_t offset = 64 * (r->cycle % (r->length / 64 - 1));
  r->lock = new (static_cast<char*>(r->address) + offset) region_lock();
  return r;
}

void region_cycle::step(thread_context& t, region_member& me) {
  if (me.region == nullptr) {
    std::lock_guard<std::mutex> g(mutex_);
    if (current_ == nullptr) current_ = create_region();
    me.region = current_;
    me.ops_left = 1 + static_cast<int>(t.below(6));
    // relaxed: only the count matters; the leave that empties the region
    // comes after this joiner's own leave, inside the region's lock.
    me.region->membership.fetch_add(2, std::memory_order_relaxed);
    if (++me.region->joins == joins_per_region) {
      me.region->membership.fetch_or(1, std::memory_order_relaxed);
      current_ = nullptr;
    }
  }
  live_region* r = me.region;
  region_lock& l = *r->lock;
  t.publish(phase::region_acquiring, 0);
  const lock_status s = l.m.lock();
  t.publish(phase::region_holding, 0);
  if (s != lock_status::acquired)
    record_failure(ctl_, "region lock: owner_died although its process is alive");
  if (l.a != l.b)
    record_failure(ctl_, "region lock: invariant broken: a=%llu b=%llu",
                   static_cast<unsigned long long>(l.a), static_cast<unsigned long long>(l.b));
  ++l.a;
  l.previous_tid = l.holder_tid;
  l.holder_tid = t.slot->tid.load(std::memory_order_relaxed);
  ++l.b;
  bool last = false, leaving = false;
  const std::int32_t previous = l.previous_tid;
  if (--me.ops_left == 0) {
    leaving = true;
    // acq_rel: the leave that empties the closed region sees every other
    // member's leave; they left inside this lock, so their stores of
    // list_op_pending (before their unlock) are visible to the guard's scrub.
    last = r->membership.fetch_sub(2, std::memory_order_acq_rel) == 3;
    me.region = nullptr;
  }
  t.publish(phase::region_releasing, 0);
  // A member leaving a closed region it does not retire is the thread whose
  // stale list_op_pending the retirer's unmap must scrub: half the time it
  // releases at idle priority, so that its unlock is still unfinished when
  // the region is replaced (see release_at_idle_priority).
  if (leaving && !last && (r->membership.load(std::memory_order_relaxed) & 1) != 0 && t.below(2) == 0)
    release_at_idle_priority([&] { l.m.unlock(); });
  else
    l.m.unlock();
  t.publish(phase::idle, 0);
  if (last) retire(t, r, previous);
}

void region_cycle::retire(thread_context& t, live_region* r, std::int32_t previous_tid) {
  t.publish(phase::region_replacing, 0);
  const auto offset = static_cast<std::size_t>(reinterpret_cast<char*>(r->lock) -
                                               static_cast<char*>(r->address));
  std::vector<std::uint32_t> words(r->length / sizeof(std::uint32_t));
  for (std::size_t i = 0; i < words.size(); ++i)
    words[i] = mix(ctl_.seed ^ (std::uint64_t{incarnation_} << 40) ^ (r->cycle << 16) ^ i);
  // The word the kernel would write through a stale list_op_pending: it
  // writes only where the TID bits equal the dying thread's TID.
  words[offset / sizeof(std::uint32_t)] = static_cast<std::uint32_t>(previous_tid);

  char name[64];
  std::snprintf(name, sizeof name, "/i%u-c%llu", incarnation_,
                static_cast<unsigned long long>(r->cycle));
  const std::string path = std::string(ctl_.directory) + name;
  if (!write_file(path + ".expect", words) || !write_file(path + ".data", words)) {
    record_failure(ctl_, "region: cannot write %s: %s", path.c_str(), std::strerror(errno));
    return;
  }
  const int fd = ::open((path + ".data").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    record_failure(ctl_, "region: cannot open %s.data: %s", path.c_str(), std::strerror(errno));
    return;
  }
  const bool raw = ctl_.unmap_raw != 0;
  const bool straight_over = (r->cycle & 1) != 0;  // map_fixed over the region, no unmap first
  void* at = MAP_FAILED;
  if (straight_over) {
    at = raw ? raw_mmap(r->address, r->length, MAP_SHARED | MAP_FIXED, fd)
             : rfutex::map_fixed(r->address, r->length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  } else {
    if (raw)
      ::syscall(SYS_munmap, r->address, r->length);
    else
      rfutex::unmap(r->address, r->length);
    at = raw_mmap(r->address, r->length, MAP_SHARED | MAP_FIXED_NOREPLACE, fd);
    if (reinterpret_cast<long>(at) < 0 && reinterpret_cast<long>(at) > -4096) {
      // Someone mapped the address meanwhile (a thread stack, malloc).
      ctl_.replaced_elsewhere.fetch_add(1, std::memory_order_relaxed);
      at = ::mmap(nullptr, r->length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
  }
  ::close(fd);
  if (at == MAP_FAILED || (reinterpret_cast<long>(at) < 0 && reinterpret_cast<long>(at) > -4096)) {
    record_failure(ctl_, "region: cannot map %s.data", path.c_str());
    return;
  }
  ::close(r->fd);
  replacement rep{at, r->length, path};
  delete r;
  t.publish(phase::region_replaced, 0);
  ctl_.unmaps.fetch_add(1, std::memory_order_relaxed);

  // Keep the two newest files mapped (their check is the parent's if this
  // process dies); unmap and check the older ones.
  std::vector<replacement> old;
  {
    std::lock_guard<std::mutex> g(mutex_);
    replacements_.push_back(rep);
    while (replacements_.size() > 2) {
      old.push_back(replacements_.front());
      replacements_.pop_front();
    }
  }
  for (const auto& o : old) drop(o);
  t.publish(phase::idle, 0);
}

void region_cycle::drop(const replacement& rep) {
  rfutex::unmap(rep.address, rep.length);
  bool complete = false;
  const std::uint64_t changed = check_and_remove(rep.path, complete);
  if (!complete) record_failure(ctl_, "region: %s: file pair incomplete", rep.path.c_str());
  ctl_.files_checked.fetch_add(1, std::memory_order_relaxed);
  if (changed != 0) {
    ctl_.foreign_bytes_changed.fetch_add(changed, std::memory_order_relaxed);
    record_failure(ctl_, "foreign bytes changed: %llu in %s.data",
                   static_cast<unsigned long long>(changed), rep.path.c_str());
  }
}

void region_cycle::finish() {
  for (const auto& r : replacements_) drop(r);
  replacements_.clear();
}

std::uint64_t check_and_remove(const std::string& path, bool& complete) {
  bool ok_data = false, ok_expect = false;
  const auto data = read_all(path + ".data", ok_data);
  const auto expect = read_all(path + ".expect", ok_expect);
  complete = ok_data && ok_expect && data.size() == expect.size();
  std::uint64_t changed = 0;
  if (complete)
    for (std::size_t i = 0; i < data.size(); ++i) changed += data[i] != expect[i] ? 1u : 0u;
  ::unlink((path + ".data").c_str());
  ::unlink((path + ".expect").c_str());
  return changed;
}

void check_files_of(control& c, std::uint32_t worker_incarnation) {
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "i%u-", worker_incarnation);
  std::vector<std::string> stems, leftovers;
  if (DIR* d = ::opendir(c.directory)) {
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n.rfind(prefix, 0) != 0) continue;
      if (n.size() > 7 && n.compare(n.size() - 7, 7, ".expect") == 0)
        stems.push_back(n.substr(0, n.size() - 7));
      else if (n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0)
        leftovers.push_back(n);
    }
    ::closedir(d);
  }
  for (const auto& n : leftovers) ::unlink((std::string(c.directory) + "/" + n).c_str());
  for (const auto& s : stems) {
    const std::string path = std::string(c.directory) + "/" + s;
    bool complete = false;
    const std::uint64_t changed = check_and_remove(path, complete);
    if (!complete) continue;  // killed between the two renames: never mapped
    c.files_checked.fetch_add(1, std::memory_order_relaxed);
    if (changed != 0) {
      c.foreign_bytes_changed.fetch_add(changed, std::memory_order_relaxed);
      record_failure(c, "foreign bytes changed: %llu in %s.data (after its worker died)",
                     static_cast<unsigned long long>(changed), path.c_str());
    }
  }
}

}  // namespace rfutex::tool::torture
