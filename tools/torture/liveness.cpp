// SPDX-License-Identifier: MIT
// The stranded-sleeper watch (see liveness.hpp).
#include "liveness.hpp"

#include <sys/syscall.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace rfutex::tool::torture {

namespace {

constexpr std::uint32_t futex_waiters = 0x80000000u;

struct thread_view {
  bool readable = false;
  bool in_futex = false;
  std::uintptr_t futex_address = 0;
  char state = '?';
  long voluntary_switches = -1;
};

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

bool is_futex_call(long nr) {
#ifdef SYS_futex_time64
  if (nr == SYS_futex_time64) return true;
#endif
  return nr == SYS_futex;
}

thread_view view_of(pid_t pid, std::int32_t tid) {
  thread_view v;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/";
  const std::string sc = read_text(dir + "syscall");
  if (sc.empty()) return v;
  v.readable = true;
  char* end = nullptr;
  const long nr = std::strtol(sc.c_str(), &end, 10);
  if (end != sc.c_str() && is_futex_call(nr)) {
    v.in_futex = true;
    v.futex_address = std::strtoull(end, nullptr, 16);
  }
  const std::string st = read_text(dir + "stat");
  if (const auto close = st.rfind(')'); close != std::string::npos && close + 2 < st.size())
    v.state = st[close + 2];
  const std::string status = read_text(dir + "status");
  if (const auto at = status.find("voluntary_ctxt_switches:"); at != std::string::npos)
    v.voluntary_switches = std::strtol(status.c_str() + at + 24, nullptr, 10);
  return v;
}

std::uint32_t load_word(const std::uint32_t* w) {
  // relaxed: a diagnostic snapshot of a word other processes change.
  return std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(w))
      .load(std::memory_order_relaxed);
}

}  // namespace

bool asleep_on(pid_t pid, std::int32_t tid, const std::uint32_t* word) {
  const thread_view v = view_of(pid, tid);
  return v.in_futex && v.state == 'S' && v.futex_address == reinterpret_cast<std::uintptr_t>(word);
}

std::string sleeper_watch::sample(double now_ms, const std::vector<watched_thread>& threads) {
  if (!usable_) return {};
  std::set<std::int32_t> still_suspect;
  for (std::size_t li = 0; li < locks_.size(); ++li) {
    const lock_info& lock = locks_[li];
    const std::uint32_t before = load_word(lock.word);
    if ((before & futex_waiters) != 0) continue;
    // Threads of this lock, and whether any of them is on the way.
    bool someone_on_the_way = false;
    std::vector<std::pair<const watched_thread*, thread_view>> sleepers;
    for (const auto& t : threads) {
      if (t.pid == 0) continue;
      const auto p = static_cast<phase>(t.slot->phase.load(std::memory_order_acquire));
      if (t.slot->lock.load(std::memory_order_relaxed) != li) continue;
      if (p != phase::acquiring && p != phase::waiting && p != phase::releasing) continue;
      if (p == phase::releasing) {
        someone_on_the_way = true;
        break;
      }
      const thread_view v = view_of(t.pid, t.slot->tid.load(std::memory_order_relaxed));
      if (!v.readable) {
        someone_on_the_way = true;  // it just died, or /proc is closed to us
        continue;
      }
      const bool asleep_on_word =
          v.in_futex && v.state == 'S' &&
          v.futex_address == reinterpret_cast<std::uintptr_t>(lock.word);
      if (asleep_on_word) {
        sleepers.emplace_back(&t, v);
      } else if (p == phase::waiting && v.in_futex && v.state == 'S') {
        // asleep on the condition variable: not an acquirer of the word yet
      } else {
        someone_on_the_way = true;
        break;
      }
    }
    const std::uint32_t after = load_word(lock.word);
    if (someone_on_the_way || sleepers.empty() || after != before) continue;
    for (const auto& [t, v] : sleepers) {
      const std::int32_t tid = t->slot->tid.load(std::memory_order_relaxed);
      auto [it, fresh] = suspects_.try_emplace(tid, suspect{now_ms, v.voluntary_switches, 0});
      if (!fresh && it->second.switches != v.voluntary_switches)
        it->second = suspect{now_ms, v.voluntary_switches, 0};  // it woke up meanwhile
      ++it->second.samples;
      still_suspect.insert(tid);
      if (it->second.samples >= 3 && now_ms - it->second.since_ms >= confirm_ms_) {
        char buf[400];
        std::snprintf(buf, sizeof buf,
                      "lost wake-up: %s (tid %d) asleep on %s for %.0f ms without being woken; "
                      "word 0x%08x has no FUTEX_WAITERS and no thread is on the way to wake it",
                      t->label.c_str(), tid, lock.name, now_ms - it->second.since_ms, after);
        return buf;
      }
    }
  }
  for (auto it = suspects_.begin(); it != suspects_.end();)
    it = still_suspect.count(it->first) != 0 ? std::next(it) : suspects_.erase(it);
  return {};
}

}  // namespace rfutex::tool::torture
