// SPDX-License-Identifier: MIT
// The parent of the storm: spawns workers, kills and respawns them, watches
// liveness, drains, checks (see torture.hpp).
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "journal.hpp"
#include "liveness.hpp"
#include "region_cycle.hpp"
#include "rfutex/strategy.hpp"
#include "torture.hpp"
#include "worker.hpp"
#include "workload.hpp"

namespace rfutex::tool::torture {

const char* name_of(phase p) {
  switch (p) {
    case phase::idle: return "idle";
    case phase::acquiring: return "acquiring";
    case phase::holding: return "holding";
    case phase::releasing: return "releasing";
    case phase::waiting: return "waiting";
    case phase::reading: return "reading";
    case phase::region_acquiring: return "region-acquiring";
    case phase::region_holding: return "region-holding";
    case phase::region_releasing: return "region-releasing";
    case phase::region_replacing: return "region-replacing";
    case phase::region_replaced: return "region-replaced";
    case phase::parked: return "parked";
  }
  return "?";
}

void record_failure(control& c, const char* fmt, ...) {
  c.failures.fetch_add(1, std::memory_order_relaxed);
  // acq_rel: exactly one writer gets the text buffer.
  if (c.failure_text_taken.exchange(1, std::memory_order_acq_rel) != 0) return;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(c.failure_text, sizeof c.failure_text, fmt, ap);
  va_end(ap);
}

namespace {

using clock = std::chrono::steady_clock;

double ms_since(clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
}

void pause_us(long us) {
  timespec ts{us / 1000000, (us % 1000000) * 1000};
  ::nanosleep(&ts, nullptr);
}

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// One death as the parent saw it after reaping: what each thread was doing.
struct death {
  phase what = phase::idle;
  std::uint32_t lock = 0;
};

struct worker_process {
  pid_t pid = 0;
  std::uint32_t incarnation = 0;
  std::uint64_t ops_at_spawn = 0;
  std::uint64_t min_ops = 0;  // operations before it may be killed
};

class storm {
 public:
  explicit storm(const options& o) : o_(o), rng_(o.seed) {}

  result run();

 private:
  void setup();
  void spawn(std::size_t w);
  void reap_killed(std::size_t w);
  bool kill_one();
  std::vector<std::size_t> woken_waiters() const;
  std::uint64_t worker_ops(std::size_t w) const;
  std::uint64_t total_ops() const;
  void watch(double now_ms);
  void quiet_phase();
  void drain();
  void final_checks();
  std::string describe(std::size_t slot) const;
  void fail(const std::string& why) {
    if (r_.failures.size() < 20) r_.failures.push_back(why);
  }
  bool failed() const { return !r_.failures.empty() || ctl_->failures.load() != 0; }

  options o_;
  result r_;
  std::mt19937_64 rng_;
  control* ctl_ = nullptr;
  thread_slot* slots_ = nullptr;
  ledger ledger_;
  std::vector<std::unique_ptr<workload>> workloads_;
  std::vector<lock_info> locks_;
  std::vector<worker_process> workers_;
  std::vector<watched_thread> watched_;
  std::vector<death> deaths_;      // by thread incarnation
  std::vector<bool> died_;         // by thread incarnation
  std::uint32_t next_incarnation_ = 0;
  std::unique_ptr<sleeper_watch> sleepers_;
  std::vector<bool> calm_capable_;     // by lock: may be calmed (the mutex copies)
  std::vector<double> calm_until_ms_;  // by lock: 0 when not calm
  double calm_ms_ = 0;
  clock::time_point start_;
  double last_progress_ms_ = 0, last_watch_ms_ = 0, last_print_ms_ = 0;
  std::uint64_t last_ops_ = 0;
};

void storm::setup() {
  workloads_ = make_workloads();
  const std::size_t threads = static_cast<std::size_t>(o_.workers) * static_cast<std::size_t>(o_.threads);
  std::size_t bytes = round_up(sizeof(control), 64) + threads * sizeof(thread_slot);
  std::vector<std::size_t> at;
  for (auto& w : workloads_) {
    bytes = round_up(bytes, 64);
    at.push_back(bytes);
    bytes += w->arena_bytes();
  }
  void* arena = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (arena == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap arena");
  ctl_ = new (arena) control();
  slots_ = reinterpret_cast<thread_slot*>(static_cast<char*>(arena) + round_up(sizeof(control), 64));
  for (std::size_t i = 0; i < threads; ++i) new (&slots_[i]) thread_slot();
  std::uint32_t first = 0;
  for (std::size_t i = 0; i < workloads_.size(); ++i) {
    workloads_[i]->place(static_cast<char*>(arena) + at[i], first);
    for (std::size_t k = 0; k < workloads_[i]->lock_count(); ++k) locks_.push_back(workloads_[i]->lock(k));
    first += static_cast<std::uint32_t>(workloads_[i]->lock_count());
  }
  ctl_->seed = o_.seed;
  ctl_->threads_per_worker = static_cast<std::uint32_t>(o_.threads);
  ctl_->unmap_raw = o_.unmap == unmap_mode::raw ? 1 : 0;

  // The ledger: one counter per thread incarnation that can ever exist
  // (plus the parent's), in shared memory touched only where used.
  const long kills_cap = o_.kills > 0 ? o_.kills : 4'000'000 / o_.threads;
  ledger_.capacity = static_cast<std::size_t>(kills_cap + o_.workers + 1) * static_cast<std::size_t>(o_.threads) + 1;
  void* l = ::mmap(nullptr, ledger_.capacity * sizeof(std::uint32_t), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (l == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap ledger");
  ledger_.reports = static_cast<std::atomic<std::uint32_t>*>(l);
  deaths_.resize(ledger_.capacity);
  died_.resize(ledger_.capacity);

  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/rfutex-torture.XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr || dir.size() >= sizeof ctl_->directory)
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + dir);
  std::snprintf(ctl_->directory, sizeof ctl_->directory, "%s", dir.c_str());

  workers_.resize(static_cast<std::size_t>(o_.workers));
  watched_.resize(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    watched_[i].slot = &slots_[i];
    // snprintf, not string concatenation: GCC 12 at -O3 warns falsely
    // (-Wrestrict) on the inlined operator+ chain.
    char label[48];
    std::snprintf(label, sizeof label, "w%zu.t%zu", i / static_cast<std::size_t>(o_.threads),
                  i % static_cast<std::size_t>(o_.threads));
    watched_[i].label = label;
  }
  // A stranded sleeper is confirmed after 150 ms without a wake-up; a calm
  // lock stays calm long enough for that.
  const double confirm_ms = std::min(60.0, o_.stall_limit * 100);
  sleepers_ = std::make_unique<sleeper_watch>(locks_, confirm_ms);
  calm_ms_ = 5 * confirm_ms;
  calm_until_ms_.assign(locks_.size(), 0);
  for (const auto& info : locks_) calm_capable_.push_back(std::string_view(info.name) != "queue");
}

std::uint64_t storm::worker_ops(std::size_t w) const {
  std::uint64_t n = 0;
  for (int t = 0; t < o_.threads; ++t)
    n += slots_[w * static_cast<std::size_t>(o_.threads) + static_cast<std::size_t>(t)].ops.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t storm::total_ops() const {
  std::uint64_t n = 0;
  for (std::size_t w = 0; w < workers_.size(); ++w) n += worker_ops(w);
  return n;
}

void storm::spawn(std::size_t w) {
  worker_process& p = workers_[w];
  p.incarnation = next_incarnation_++;
  thread_slot* mine = &slots_[w * static_cast<std::size_t>(o_.threads)];
  for (int t = 0; t < o_.threads; ++t) {
    mine[t].phase.store(static_cast<std::uint32_t>(phase::idle), std::memory_order_relaxed);
    mine[t].tid.store(0, std::memory_order_relaxed);
    mine[t].incarnation.store(p.incarnation * static_cast<std::uint32_t>(o_.threads) + static_cast<std::uint32_t>(t), std::memory_order_relaxed);
  }
  p.ops_at_spawn = worker_ops(w);
  p.min_ops = rng_() % 16;
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    worker_setup s{ctl_, ledger_, mine, static_cast<std::uint32_t>(o_.threads), p.incarnation, &workloads_};
    worker_main(s);
  }
  p.pid = pid;
  for (int t = 0; t < o_.threads; ++t) watched_[w * static_cast<std::size_t>(o_.threads) + static_cast<std::size_t>(t)].pid = pid;
}

std::string storm::describe(std::size_t s) const {
  const thread_slot& t = slots_[s];
  const auto p = static_cast<phase>(t.phase.load());
  std::string d = watched_[s].label + " (tid " + std::to_string(t.tid.load()) + ") " + name_of(p);
  if (p == phase::acquiring || p == phase::holding || p == phase::releasing || p == phase::waiting ||
      p == phase::reading) {
    const lock_info& l = locks_[t.lock.load()];
    char buf[64];
    std::snprintf(buf, sizeof buf, " %s (word 0x%08x)", l.name,
                  std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(l.word)).load());
    d += buf;
  }
  return d;
}

// After SIGKILL: reap, note what every thread was doing, check its files,
// wake what the dead may have owed a wake-up, respawn.
void storm::reap_killed(std::size_t w) {
  worker_process& p = workers_[w];
  int status = 0;
  while (::waitpid(p.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
    fail("worker " + std::to_string(p.incarnation) + " ended otherwise than by our SIGKILL (status " +
         std::to_string(status) + ")");
  p.pid = 0;
  for (int t = 0; t < o_.threads; ++t) watched_[w * static_cast<std::size_t>(o_.threads) + static_cast<std::size_t>(t)].pid = 0;
  bool held = false;
  for (int t = 0; t < o_.threads; ++t) {
    const thread_slot& s = slots_[w * static_cast<std::size_t>(o_.threads) + static_cast<std::size_t>(t)];
    const std::uint32_t inc = s.incarnation.load();
    death d{static_cast<phase>(s.phase.load()), s.lock.load()};
    deaths_[inc] = d;
    died_[inc] = true;
    if (d.what == phase::holding) {
      held = true;
      ++r_.holder_deaths;
    }
  }
  if (held) ++r_.kills_while_holding;
  // Calm the locks the victims were operating on, now and then.
  for (int t = 0; t < o_.threads; ++t) {
    const thread_slot& s = slots_[w * static_cast<std::size_t>(o_.threads) + static_cast<std::size_t>(t)];
    const auto ph = static_cast<phase>(s.phase.load());
    const std::uint32_t l = s.lock.load();
    if ((ph == phase::acquiring || ph == phase::releasing || ph == phase::holding) && l < 32 &&
        l < locks_.size() && calm_capable_[l]) {
      calm_until_ms_[l] = ms_since(start_) + calm_ms_;
      ctl_->calm_locks.fetch_or(1u << l, std::memory_order_relaxed);
    }
  }
  check_files_of(*ctl_, p.incarnation);
  for (auto& wl : workloads_) wl->after_death();
}

// Workers with a thread inside lock() of a mutex, awake (woken, or not yet
// asleep), while another thread sleeps on that mutex: killing it then tests
// that the wake-up it may have consumed is passed on.
std::vector<std::size_t> storm::woken_waiters() const {
  std::vector<std::size_t> out;
  const std::size_t threads = static_cast<std::size_t>(o_.threads);
  std::vector<std::vector<std::size_t>> by_lock(locks_.size());
  for (std::size_t s = 0; s < watched_.size(); ++s) {
    if (watched_[s].pid == 0) continue;
    if (static_cast<phase>(slots_[s].phase.load(std::memory_order_acquire)) != phase::acquiring) continue;
    const std::uint32_t l = slots_[s].lock.load(std::memory_order_relaxed);
    if (l < locks_.size()) by_lock[l].push_back(s);
  }
  for (std::size_t l = 0; l < locks_.size(); ++l) {
    if (by_lock[l].size() < 2) continue;
    std::vector<std::size_t> awake;
    bool someone_asleep = false;
    for (const std::size_t s : by_lock[l]) {
      if (asleep_on(watched_[s].pid, slots_[s].tid.load(std::memory_order_relaxed), locks_[l].word))
        someone_asleep = true;
      else
        awake.push_back(s / threads);
    }
    if (someone_asleep) out.insert(out.end(), awake.begin(), awake.end());
  }
  out.erase(std::remove_if(out.begin(), out.end(),
                           [this](std::size_t w) {
                             return workers_[w].pid == 0 || worker_ops(w) - workers_[w].ops_at_spawn < workers_[w].min_ops;
                           }),
            out.end());
  return out;
}

// Picks a victim, biased towards threads inside a lock operation; returns
// whether it killed.
bool storm::kill_one() {
  const std::size_t threads = static_cast<std::size_t>(o_.threads);
  std::vector<std::size_t> holding, inside, racing, any;
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    const worker_process& p = workers_[w];
    if (p.pid == 0 || worker_ops(w) - p.ops_at_spawn < p.min_ops) continue;
    any.push_back(w);
    bool releasing_region = false, replaced_region = false;
    for (std::size_t t = 0; t < threads; ++t) {
      const auto ph = static_cast<phase>(slots_[w * threads + t].phase.load(std::memory_order_acquire));
      if (ph == phase::holding) holding.push_back(w);
      if (ph == phase::acquiring || ph == phase::releasing || ph == phase::waiting) inside.push_back(w);
      releasing_region |= ph == phase::region_releasing;
      replaced_region |= ph == phase::region_replacing || ph == phase::region_replaced;
    }
    // A member may still be finishing its unlock while the region it just
    // left was replaced: the moment the unmap guard exists for.
    if (releasing_region && replaced_region) racing.push_back(w);
  }
  const std::vector<std::size_t>* from = nullptr;
  std::vector<std::size_t> woken;
  const unsigned dice = static_cast<unsigned>(rng_() % 100);
  if (!racing.empty())
    from = &racing;
  else if (dice < 30)
    from = &holding;
  else if (dice < 50)
    from = &inside;
  else if (dice < 80)
    from = &(woken = woken_waiters());
  else if (dice < 90)
    from = &any;
  if (from == nullptr || from->empty()) return false;
  const std::size_t w = (*from)[rng_() % from->size()];
  ::kill(workers_[w].pid, SIGKILL);
  ++r_.kills;
  if (from == &woken) ++r_.kills_of_woken_waiters;
  if (from == &racing) ++r_.kills_racing_unmap;
  reap_killed(w);
  spawn(w);
  ++r_.respawns;
  return true;
}

void storm::watch(double now_ms) {
  const std::uint64_t ops = total_ops();
  if (ops != last_ops_) {
    last_ops_ = ops;
    last_progress_ms_ = now_ms;
  }
  r_.max_stall_ms = std::max(r_.max_stall_ms, now_ms - last_progress_ms_);
  if (now_ms - last_progress_ms_ > o_.stall_limit * 1000)
    fail("no operation completed for " + std::to_string(static_cast<long>(now_ms - last_progress_ms_)) + " ms");
  for (std::size_t l = 0; l < calm_until_ms_.size(); ++l)
    if (calm_until_ms_[l] != 0 && now_ms >= calm_until_ms_[l]) {
      calm_until_ms_[l] = 0;
      ctl_->calm_locks.fetch_and(~(1u << l), std::memory_order_relaxed);
    }
  if (now_ms - last_watch_ms_ >= 20) {
    last_watch_ms_ = now_ms;
    const std::string stranded = sleepers_->sample(now_ms, watched_);
    if (!stranded.empty()) fail(stranded);
  }
  if (o_.progress && now_ms - last_print_ms_ >= 500) {
    last_print_ms_ = now_ms;
    std::printf("\r  %.1f s  kills %ld (holding %ld)  recoveries %llu  ops %llu  unmaps %llu  max stall %.0f ms ",
                now_ms / 1000, r_.kills, r_.kills_while_holding,
                static_cast<unsigned long long>(ctl_->recoveries.load()),
                static_cast<unsigned long long>(ops),
                static_cast<unsigned long long>(ctl_->unmaps.load()), r_.max_stall_ms);
    std::fflush(stdout);
  }
}

// No kills: every live thread must complete an operation within the stall
// limit, and the storm runs on for the quiet time.
void storm::quiet_phase() {
  const std::size_t threads = watched_.size();
  std::vector<std::uint64_t> base(threads);
  for (std::size_t i = 0; i < threads; ++i) base[i] = slots_[i].ops.load();
  const double t0 = ms_since(start_);
  std::vector<bool> progressed(threads, false);
  for (;;) {
    const double now = ms_since(start_);
    std::size_t done = 0;
    for (std::size_t i = 0; i < threads; ++i) {
      if (!progressed[i] && slots_[i].ops.load() != base[i]) {
        progressed[i] = true;
        r_.quiet_max_wait_ms = std::max(r_.quiet_max_wait_ms, now - t0);
      }
      done += progressed[i] ? 1u : 0u;
    }
    if (done == threads && now - t0 >= o_.quiet_seconds * 1000) return;
    if (now - t0 > o_.stall_limit * 1000) {
      for (std::size_t i = 0; i < threads; ++i)
        if (!progressed[i])
          fail("quiet phase: no progress for " + std::to_string(static_cast<long>(o_.stall_limit * 1000)) +
               " ms: " + describe(i));
      return;
    }
    watch(now);
    if (failed()) return;
    pause_us(1000);
  }
}

void storm::drain() {
  ctl_->stop.store(1, std::memory_order_release);
  const double t0 = ms_since(start_);
  std::vector<bool> done(workers_.size(), false);
  std::size_t left = workers_.size();
  while (left > 0) {
    for (auto& wl : workloads_) wl->wake_for_drain();
    for (std::size_t w = 0; w < workers_.size(); ++w) {
      if (done[w]) continue;
      int status = 0;
      const pid_t r = ::waitpid(workers_[w].pid, &status, WNOHANG);
      if (r == 0) continue;
      done[w] = true;
      --left;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("worker " + std::to_string(workers_[w].incarnation) + " did not exit cleanly at the drain (status " +
             std::to_string(status) + ")");
      check_files_of(*ctl_, workers_[w].incarnation);
      workers_[w].pid = 0;
    }
    if (left > 0 && ms_since(start_) - t0 > o_.stall_limit * 1000) {
      // Every stuck thread is described before any is killed (a death
      // changes the locks' words).
      for (std::size_t w = 0; w < workers_.size(); ++w) {
        if (done[w]) continue;
        for (int t = 0; t < o_.threads; ++t) {
          const std::size_t s = w * static_cast<std::size_t>(o_.threads) + static_cast<std::size_t>(t);
          if (static_cast<phase>(slots_[s].phase.load()) != phase::parked)
            fail("drain: thread stuck: " + describe(s));
        }
      }
      for (std::size_t w = 0; w < workers_.size(); ++w) {
        if (done[w]) continue;
        ::kill(workers_[w].pid, SIGKILL);
        int status = 0;
        ::waitpid(workers_[w].pid, &status, 0);
        for (int t = 0; t < o_.threads; ++t) {
          const thread_slot& s = slots_[w * static_cast<std::size_t>(o_.threads) + static_cast<std::size_t>(t)];
          deaths_[s.incarnation.load()] = death{static_cast<phase>(s.phase.load()), s.lock.load()};
          died_[s.incarnation.load()] = true;
        }
        workers_[w].pid = 0;
        done[w] = true;
      }
      left = 0;
    }
    pause_us(1000);
  }
}

void storm::final_checks() {
  // The parent takes every lock once: the deaths nobody recovered from yet
  // are recovered (and reported in the ledger) now.
  thread_context parent;
  parent.ctl = ctl_;
  parent.deaths = &ledger_;
  parent.incarnation = static_cast<std::uint32_t>(ledger_.capacity - 1);
  for (auto& wl : workloads_) wl->final_check(parent);

  const std::size_t shared_locks = locks_.size();
  std::vector<long> ambiguous(shared_locks, 0);
  long reported_twice = 0, unreported = 0, not_a_holder = 0;
  std::string first;
  for (std::uint32_t inc = 0; inc < next_incarnation_ * static_cast<std::uint32_t>(o_.threads); ++inc) {
    const std::uint32_t n = ledger_.reports[inc].load();
    const death& d = deaths_[inc];
    const bool inside = died_[inc] && (d.what == phase::acquiring || d.what == phase::releasing ||
                                       d.what == phase::waiting);
    if (inside && d.lock < shared_locks) ++ambiguous[d.lock];
    char buf[200];
    buf[0] = '\0';
    if (n > 1) {
      ++reported_twice;
      std::snprintf(buf, sizeof buf, "thread incarnation %u: its death reported as owner_died %u times", inc, n);
    } else if (died_[inc] && d.what == phase::holding && n != 1) {
      ++unreported;
      std::snprintf(buf, sizeof buf, "thread incarnation %u died holding %s; no owner_died named it", inc,
                    locks_[d.lock].name);
    } else if (n == 1 && !(died_[inc] && (d.what == phase::holding || inside))) {
      ++not_a_holder;
      std::snprintf(buf, sizeof buf, "thread incarnation %u named by owner_died but it %s", inc,
                    died_[inc] ? "held nothing when it died" : "never died");
    }
    if (buf[0] != '\0' && first.empty()) first = buf;
  }
  if (!first.empty())
    fail("owner-death ledger: " + std::to_string(reported_twice) + " reported twice, " +
         std::to_string(unreported) + " holder deaths unreported, " + std::to_string(not_a_holder) +
         " reports naming a non-holder; first: " + first);
  for (std::size_t i = 0; i < shared_locks; ++i) {
    const std::uint64_t unattributed = locks_[i].record->unattributed;
    if (static_cast<long>(unattributed) > ambiguous[i])
      fail(std::string(locks_[i].name) + ": " + std::to_string(unattributed) +
           " owner_died with a closed journal, but only " + std::to_string(ambiguous[i]) +
           " threads died inside its lock or unlock");
  }
}

result storm::run() {
  start_ = clock::now();
  r_.opts = o_;
  r_.unmap = o_.unmap == unmap_mode::raw ? "raw" : "rfutex";
  try {
    r_.strategy = std::string(to_string(active_unlock_strategy()));
  } catch (const std::system_error& e) {
    r_.strategy = "error";
    fail(std::string("no unlock strategy: ") + e.what());
    return r_;
  }
  setup();
  for (std::size_t w = 0; w < workers_.size(); ++w) spawn(w);

  const std::uint32_t max_incarnations =
      static_cast<std::uint32_t>((ledger_.capacity - 1) / static_cast<std::size_t>(o_.threads));
  for (;;) {
    const double now = ms_since(start_);
    if (o_.seconds > 0 && now >= o_.seconds * 1000) break;
    if (o_.kills > 0 && r_.kills >= o_.kills) break;
    if (next_incarnation_ + 1 >= max_incarnations) break;
    watch(now);
    if (failed()) break;
    // A worker that ended by itself (a crash, a failed check that aborted).
    int status = 0;
    if (const pid_t p = ::waitpid(-1, &status, WNOHANG); p > 0) {
      fail("worker pid " + std::to_string(p) + " exited unexpectedly (status " + std::to_string(status) + ")");
      for (auto& w : workers_)
        if (w.pid == p) w.pid = 0;
      break;
    }
    if (!kill_one()) pause_us(static_cast<long>(rng_() % 200));
  }
  ctl_->calm_locks.store(0, std::memory_order_relaxed);
  if (!failed()) quiet_phase();
  drain();
  if (ctl_->failures.load() == 0 && r_.failures.empty()) final_checks();
  if (o_.progress) std::printf("\r%100s\r", "");

  if (const auto count = ctl_->failures.load(); count != 0) {
    // Appended piecewise: GCC 12 at -O3 warns falsely on an operator+ chain.
    std::string first(ctl_->failure_text);
    if (count > 1) {
      first += " (+";
      first += std::to_string(count - 1);
      first += " more)";
    }
    // First in the list (push_back and rotate: GCC 12 at -O3 also warns
    // falsely, -Wnull-dereference, on an insert at begin()).
    r_.failures.push_back(std::move(first));
    std::rotate(r_.failures.begin(), r_.failures.end() - 1, r_.failures.end());
  }
  r_.recoveries = ctl_->recoveries.load();
  r_.ops = total_ops();
  r_.unmaps = ctl_->unmaps.load();
  r_.foreign_bytes_changed = ctl_->foreign_bytes_changed.load();
  r_.files_checked = ctl_->files_checked.load();
  r_.replaced_elsewhere = ctl_->replaced_elsewhere.load();
  r_.seconds = ms_since(start_) / 1000;
  if (!sleepers_->usable()) r_.failures.push_back("cannot read /proc/<pid>/task/<tid>/syscall: the sleeper watch is blind");
  r_.pass = r_.failures.empty();
  ::rmdir(ctl_->directory);
  return r_;
}

}  // namespace

result run_storm(const options& o) {
  storm s(o);
  return s.run();
}

}  // namespace rfutex::tool::torture
