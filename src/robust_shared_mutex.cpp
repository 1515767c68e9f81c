// SPDX-License-Identifier: MIT
// robust_shared_mutex: a writer word (a robust_mutex) and max_readers reader
// slots, each slot the bytes of a robust mutex that a reader owns while it
// reads. Every hold is a robust futex word linked into its owner's robust
// list, so the kernel releases what a dying thread held.
//
//   reader:  wait until the writer word has no owner (await_free);
//            take a free slot (a robust acquisition: pending, CAS, link);
//            fence; if the writer word now has an owner, a writer came in
//            meanwhile — give the slot back and wait again (writers first).
//   writer:  take the writer word (robust_mutex::lock);
//            fence; wait until every slot has no owner (setting
//            FUTEX_WAITERS on a held slot and sleeping on it).
// The fences make the two "take one word, then look at the other" sequences
// a Dekker pair: at least one side sees the other's word, so a reader and a
// writer are never both inside.
//
// Who wakes whom (liveness):
//   - a writer waiting on a slot: the slot's release wakes every waiter of
//     the slot (it has FUTEX_WAITERS); a reader dying with the slot: the
//     kernel marks it OWNER_DIED and wakes one — the writer is the only
//     thread that waits for a slot to empty, readers waiting for a free slot
//     acquire it like a mutex and pass it on when they release it.
//   - readers waiting for a writer sleep on the writer word (await_free): the
//     writer's release wakes them (all, or one who passes it on); the
//     writer's death: the kernel wakes one, who passes it on; a reader killed
//     before passing it on is covered by its `pending` (lock_protocol.hpp).
//   - a writer waiting for a writer: as for robust_mutex.
#include "rfutex/robust_shared_mutex.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <string>
#include <system_error>

#include "protocol/fast_path.hpp"
#include "protocol/lock_protocol.hpp"
#include "protocol/thread_state.hpp"
#include "rfutex/unmap.hpp"

namespace rfutex {

struct shared_mutex_access {
  static detail::lock_storage& writer(robust_shared_mutex& m) noexcept {
    // robust_mutex is standard-layout with its storage as the only member.
    return *reinterpret_cast<detail::lock_storage*>(&m.writer_);
  }
  static robust_mutex& writer_mutex(robust_shared_mutex& m) noexcept { return m.writer_; }
  static detail::lock_storage* slots(robust_shared_mutex& m) noexcept { return m.readers_; }
};

namespace {

using access = shared_mutex_access;
using protocol::acquire_outcome;
using protocol::wait_policy;
constexpr int slot_count = robust_shared_mutex::max_readers;

[[noreturn]] void fail(int error, const char* op, const char* why) {
  throw std::system_error(error, std::generic_category(),
                          std::string("rfutex::robust_shared_mutex::") + op + ": " + why);
}

std::atomic_ref<std::uint32_t> ref(std::uint32_t& v) { return std::atomic_ref<std::uint32_t>(v); }

// Orders our preceding RMW on one word before our following load of the
// other (the Dekker pair above). On x86 the RMW is a locked instruction, a
// full barrier already; elsewhere a real fence.
inline void rmw_then_load_fence() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  protocol::compiler_barrier();
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

// The data needs repair: the last writer died holding the writer word
// (OWNER_DIED, no writer since) or a writer took it with owner_died and
// has not made it consistent (state).
bool damaged(detail::lock_storage& w) {
  // acquire: pairs with the release of the writer word by the last writer.
  return (ref(w.word).load(std::memory_order_acquire) & sys::futex_owner_died) != 0 ||
         ref(w.state).load(std::memory_order_acquire) == detail::state_inconsistent;
}

bool not_recoverable(detail::lock_storage& w) {
  return ref(w.state).load(std::memory_order_acquire) == detail::state_not_recoverable;
}

int home_slot(const protocol::thread_state& me) { return static_cast<int>(me.tid % slot_count); }

// Takes a reader slot. Each is tried once without waiting, starting at the
// thread's home slot; if all are held and we may wait, waits for one we do
// not hold ourselves. A slot left OWNER_DIED by a dead reader is simply free.
// Returns the slot, or -1 (busy / timed out, in `outcome`).
int take_slot(robust_shared_mutex& m, protocol::thread_state& me, wait_policy policy,
              const protocol::deadline* until, acquire_outcome& outcome) {
  detail::lock_storage* slots = access::slots(m);
  const int home = home_slot(me);
  int wait_on = -1;
  for (int i = 0; i < slot_count; ++i) {
    const int s = (home + i) % slot_count;
    std::uint32_t* word = &slots[s].word;
    if (protocol::acquire_fast(word, me, detail::lock_kind::plain)) return s;
    const acquire_outcome o = protocol::acquire(word, me, detail::lock_kind::plain,
                                                wait_policy::no_wait, nullptr);
    if (o == acquire_outcome::acquired || o == acquire_outcome::owner_died) return s;
    if (o == acquire_outcome::busy && wait_on < 0) wait_on = s;  // not ours
  }
  if (policy == wait_policy::no_wait || wait_on < 0) {
    // wait_on < 0: every slot is ours (recursive shared locking by one
    // thread beyond max_readers) — waiting could never end.
    if (wait_on < 0 && policy == wait_policy::wait)
      fail(EAGAIN, "lock_shared", "the calling thread holds every reader slot");
    outcome = acquire_outcome::busy;
    return -1;
  }
  outcome = protocol::acquire(&slots[wait_on].word, me, detail::lock_kind::plain, policy, until);
  if (outcome == acquire_outcome::acquired || outcome == acquire_outcome::owner_died) return wait_on;
  return -1;
}

// Releases reader slot `s`, waking everyone who waits on it (the writer,
// readers waiting for a slot).
void give_back_slot(robust_shared_mutex& m, protocol::thread_state& me, int s) {
  protocol::release_fast(&access::slots(m)[s].word, me, detail::lock_kind::plain, INT_MAX);
}

try_status acquire_shared(robust_shared_mutex& m, wait_policy policy, const protocol::deadline* until,
                          const char* op) {
  auto& me = protocol::current_thread();
  detail::lock_storage& w = access::writer(m);
  if (protocol::owner_of(&w.word) == me.tid) fail(EDEADLK, op, "the calling thread holds it exclusively");
  for (;;) {
    if (not_recoverable(w)) fail(ENOTRECOVERABLE, op, "a writer unlocked it after an owner death without make_consistent()");
    acquire_outcome o = protocol::await_free(&w.word, me, policy, until);
    if (o == acquire_outcome::busy) return try_status::busy;
    if (o == acquire_outcome::timed_out) return try_status::timed_out;
    const int s = take_slot(m, me, policy, until, o);
    if (s < 0) return o == acquire_outcome::timed_out ? try_status::timed_out : try_status::busy;
    rmw_then_load_fence();
    // acquire: the data the last writer wrote happens-before our reads.
    if ((ref(w.word).load(std::memory_order_acquire) & sys::futex_tid_mask) == 0) {
      return damaged(w) ? try_status::owner_died : try_status::acquired;
    }
    // A writer took the writer word meanwhile; it waits for our slot.
    give_back_slot(m, me, s);
    if (policy == wait_policy::no_wait) return try_status::busy;
  }
}

// The uncontended shared acquisition, inline in lock_shared(): no writer,
// no repair pending, the thread's home slot free. False, with nothing held,
// otherwise (acquire_shared() then decides: writers first, EDEADLK,
// owner_died, ENOTRECOVERABLE, another slot). Dying anywhere here leaves at
// most the home slot held and linked (or `pending`): the kernel frees it and
// wakes its waiter, as for any slot.
inline bool acquire_shared_fast(robust_shared_mutex& m, protocol::thread_state& me) {
  detail::lock_storage& w = access::writer(m);
  // relaxed: a hint only (is it worth trying); the acquire load after the
  // slot is the Dekker check that decides.
  if (ref(w.word).load(std::memory_order_relaxed) != 0) return false;
  const int s = home_slot(me);
  if (!protocol::acquire_fast(&access::slots(m)[s].word, me, detail::lock_kind::plain)) return false;
  rmw_then_load_fence();
  // acquire: the data the last writer wrote happens-before our reads. Any
  // bit in the word (an owner, waiters, an owner-death mark) or a state
  // other than consistent is the slow path's to handle.
  if (__builtin_expect(ref(w.word).load(std::memory_order_acquire) == 0 &&
                           ref(w.state).load(std::memory_order_acquire) == detail::state_consistent,
                       1))
    return true;
  give_back_slot(m, me, s);
  return false;
}

[[gnu::noinline]] lock_status lock_shared_slow(robust_shared_mutex& m) {
  return acquire_shared(m, wait_policy::wait, nullptr, "lock_shared") == try_status::owner_died
             ? lock_status::owner_died
             : lock_status::acquired;
}

// Gives the writer word back after an acquisition that could not wait for
// the readers (try_lock, a timeout, EDEADLK). Leaves its consistency state as
// it is: after an owner_died acquisition the state says inconsistent, and the
// next writer gets owner_died again.
void give_back_writer(robust_shared_mutex& m, protocol::thread_state& me) {
  protocol::release(&access::writer(m).word, me, detail::lock_kind::plain, INT_MAX);
}

// With the writer word held: waits until no slot has an owner.
try_status drain_readers(robust_shared_mutex& m, wait_policy policy, const protocol::deadline* until,
                         const char* op) {
  auto& me = protocol::current_thread();
  detail::lock_storage* slots = access::slots(m);
  rmw_then_load_fence();
  for (int s = 0; s < slot_count; ++s) {
    if (protocol::owner_of(&slots[s].word) == me.tid) {
      give_back_writer(m, me);
      fail(EDEADLK, op, "the calling thread holds it shared");
    }
  }
  for (int s = 0; s < slot_count; ++s) {
    auto word = ref(slots[s].word);
    // acquire: a reader that left released the slot; nothing to read, but
    // its reads of the data happen-before our writes.
    std::uint32_t v = word.load(std::memory_order_acquire);
    while ((v & sys::futex_tid_mask) != 0) {
      if (policy == wait_policy::no_wait) {
        give_back_writer(m, me);
        return try_status::busy;
      }
      if ((v & sys::futex_waiters) == 0 &&
          // acquire: when the exchange fails, the value it read may be the
          // reader's release, after which the loop ends and we write the
          // data that reader's reads must precede. (Setting the bit needs no
          // order: it only makes the reader's release wake us, and the
          // kernel re-checks the value before we sleep.)
          !word.compare_exchange_weak(v, v | sys::futex_waiters, std::memory_order_acquire,
                                      std::memory_order_acquire))
        continue;
      v |= sys::futex_waiters;
      // No `pending` needed: we hold the writer word; if we die here, that
      // is an owner death of it, which the kernel handles.
      const long r = sys::futex_wait(&slots[s].word, v, until ? &until->at : nullptr,
                                     until ? until->clock : sys::futex_clock::monotonic);
      if (r == -ETIMEDOUT) {
        give_back_writer(m, me);
        return try_status::timed_out;
      }
      if (r < 0 && r != -EAGAIN && r != -EINTR) {
        give_back_writer(m, me);
        throw std::system_error(static_cast<int>(-r), std::generic_category(),
                                "rfutex::robust_shared_mutex: FUTEX_WAIT");
      }
      v = word.load(std::memory_order_acquire);
    }
  }
  return try_status::acquired;
}

// The uncontended case of drain_readers(), inline in lock(): with the writer
// word held, no slot has an owner. One pass of loads with no branch between
// them: an owner's TID is non-zero in some word exactly when it is in their
// OR. False sends lock() to drain_readers(), which decides (EDEADLK,
// waiting).
inline bool no_reader(robust_shared_mutex& m) noexcept {
  detail::lock_storage* slots = access::slots(m);
  rmw_then_load_fence();
  std::uint32_t owners = 0;
#pragma GCC unroll 16
  for (int s = 0; s < slot_count; ++s)
    // acquire: a reader that left released its slot; its reads of the data
    // happen-before our writes (as in drain_readers).
    owners |= ref(slots[s].word).load(std::memory_order_acquire);
  return (owners & sys::futex_tid_mask) == 0;
}

protocol::deadline to_deadline(std::int64_t ns, bool realtime) {
  if (ns < 0) ns = 0;  // before the clock's epoch: already passed
  return {{ns / 1'000'000'000, ns % 1'000'000'000},
          realtime ? sys::futex_clock::realtime : sys::futex_clock::monotonic};
}

}  // namespace

robust_shared_mutex::~robust_shared_mutex() { scrub_pending(this, sizeof *this); }

lock_status robust_shared_mutex::lock() {
  const lock_status s = writer_.lock();
  if (__builtin_expect(!no_reader(*this), 0)) (void)drain_readers(*this, wait_policy::wait, nullptr, "lock");
  return s;
}

try_lock_result robust_shared_mutex::try_lock() {
  const try_lock_result r = writer_.try_lock();
  if (!r) return r;
  const try_status drained = drain_readers(*this, wait_policy::no_wait, nullptr, "try_lock");
  return try_lock_result(drained == try_status::acquired ? r.status() : drained);
}

try_lock_result robust_shared_mutex::try_lock_until_ns(std::int64_t ns, bool realtime) {
  using namespace std::chrono;
  const try_lock_result r =
      realtime ? writer_.try_lock_until(system_clock::time_point(duration_cast<system_clock::duration>(nanoseconds(ns))))
               : writer_.try_lock_until(steady_clock::time_point(duration_cast<steady_clock::duration>(nanoseconds(ns))));
  if (!r) return r;
  const protocol::deadline until = to_deadline(ns, realtime);
  const try_status drained = drain_readers(*this, wait_policy::wait, &until, "try_lock_until");
  return try_lock_result(drained == try_status::acquired ? r.status() : drained);
}

void robust_shared_mutex::unlock() {
  try {
    writer_.unlock();  // refuses, EPERM, a caller that does not hold the writer word
  } catch (const std::system_error& e) {
    if (e.code() == std::errc::operation_not_permitted)
      fail(EPERM, "unlock", "the calling thread does not hold it exclusively");
    throw;
  }
}

void robust_shared_mutex::make_consistent() { writer_.make_consistent(); }

lock_status robust_shared_mutex::lock_shared() {
  protocol::thread_state& me = protocol::tls_thread_state;
  if (__builtin_expect(me.tid != 0, 1) && __builtin_expect(acquire_shared_fast(*this, me), 1))
    return lock_status::acquired;
  return lock_shared_slow(*this);
}

try_lock_result robust_shared_mutex::try_lock_shared() {
  return try_lock_result(acquire_shared(*this, wait_policy::no_wait, nullptr, "try_lock_shared"));
}

try_lock_result robust_shared_mutex::try_lock_shared_until_ns(std::int64_t ns, bool realtime) {
  const protocol::deadline until = to_deadline(ns, realtime);
  return try_lock_result(acquire_shared(*this, wait_policy::wait, &until, "try_lock_shared_until"));
}

void robust_shared_mutex::unlock_shared() {
  protocol::thread_state& fast = protocol::tls_thread_state;
  // tid 0: this thread never locked (its state is not initialised).
  if (__builtin_expect(fast.tid != 0, 1)) {
    std::uint32_t* home_word = &readers_[home_slot(fast)].word;
    if (__builtin_expect(protocol::owner_of(home_word) == fast.tid, 1)) {
      protocol::release_fast(home_word, fast, detail::lock_kind::plain, INT_MAX);
      return;
    }
  }
  auto& me = protocol::current_thread();
  const int home = home_slot(me);
  for (int i = 0; i < slot_count; ++i) {
    const int s = (home + i) % slot_count;
    if (protocol::owner_of(&readers_[s].word) == me.tid) {
      give_back_slot(*this, me, s);
      return;
    }
  }
  fail(EPERM, "unlock_shared", "the calling thread does not hold it shared");
}

bool robust_shared_mutex::consistent() const noexcept {
  auto& w = access::writer(const_cast<robust_shared_mutex&>(*this));
  return !damaged(w) && !not_recoverable(w);
}

pid_t robust_shared_mutex::writer() const noexcept { return writer_.owner(); }

int robust_shared_mutex::readers() const noexcept {
  int n = 0;
  for (const auto& slot : readers_) n += protocol::owner_of(&slot.word) != 0 ? 1 : 0;
  return n;
}

}  // namespace rfutex
