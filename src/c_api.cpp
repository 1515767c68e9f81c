// SPDX-License-Identifier: MIT
// The C interface (include/rfutex/rfutex.h): the C++ locks, errors as
// return values.
#include "rfutex/rfutex.h"

#include <cxxabi.h>

#include <atomic>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <new>
#include <string_view>
#include <system_error>

#include "rfutex/robust_condition_variable.hpp"
#include "rfutex/robust_mutex.hpp"
#include "rfutex/robust_pi_mutex.hpp"
#include "rfutex/robust_shared_mutex.hpp"
#include "rfutex/shared_once.hpp"
#include "rfutex/strategy.hpp"
#include "rfutex/unmap.hpp"

#include "protocol/misaligned.hpp"

static_assert(sizeof(rfutex_mutex_t) == sizeof(rfutex::robust_mutex) &&
              alignof(rfutex_mutex_t) == alignof(rfutex::robust_mutex));
static_assert(sizeof(rfutex_pi_mutex_t) == sizeof(rfutex::robust_pi_mutex) &&
              alignof(rfutex_pi_mutex_t) == alignof(rfutex::robust_pi_mutex));
static_assert(sizeof(rfutex_cond_t) == sizeof(rfutex::robust_condition_variable) &&
              alignof(rfutex_cond_t) == alignof(rfutex::robust_condition_variable));

static_assert(sizeof(rfutex_rwlock_t) == sizeof(rfutex::robust_shared_mutex) &&
              alignof(rfutex_rwlock_t) == alignof(rfutex::robust_shared_mutex));
static_assert(sizeof(rfutex_once_t) == sizeof(rfutex::shared_once) &&
              alignof(rfutex_once_t) == alignof(rfutex::shared_once));

namespace {

// The C objects are the C++ ones: same bytes (asserted above).
rfutex::robust_shared_mutex& cxx(rfutex_rwlock_t* l) {
  return *std::launder(reinterpret_cast<rfutex::robust_shared_mutex*>(l));
}
rfutex::shared_once& cxx(rfutex_once_t* o) { return *std::launder(reinterpret_cast<rfutex::shared_once*>(o)); }
rfutex::robust_mutex& cxx(rfutex_mutex_t* m) { return *std::launder(reinterpret_cast<rfutex::robust_mutex*>(m)); }
rfutex::robust_pi_mutex& cxx(rfutex_pi_mutex_t* m) {
  return *std::launder(reinterpret_cast<rfutex::robust_pi_mutex*>(m));
}
rfutex::robust_condition_variable& cxx(rfutex_cond_t* c) {
  return *std::launder(reinterpret_cast<rfutex::robust_condition_variable*>(c));
}

// Runs `f`, turning exceptions into errno values. Not noexcept, and the
// forced unwind of a thread cancellation goes through untouched: swallowing
// it would make glibc abort, and the C caller's cleanup handlers must run.
// (UBSan is off here: glibc's forced unwind is a foreign exception, and
// binding the catch clause's reference to it reads as a null reference.)
template <class F>
__attribute__((no_sanitize("undefined"))) int guarded_call(F f) {
  try {
    return f();
  } catch (abi::__forced_unwind&) {
    throw;
  } catch (const std::system_error& e) {
    return e.code().value();
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  } catch (...) {
    return EINVAL;
  }
}

int from(rfutex::lock_status s) { return s == rfutex::lock_status::owner_died ? EOWNERDEAD : 0; }

int from(rfutex::try_lock_result r) {
  switch (r.status()) {
    case rfutex::try_status::acquired: return 0;
    case rfutex::try_status::owner_died: return EOWNERDEAD;
    case rfutex::try_status::busy: return EBUSY;
    case rfutex::try_status::timed_out: return ETIMEDOUT;
  }
  return EINVAL;
}

bool valid(const timespec* t) {
  return t != nullptr && t->tv_nsec >= 0 && t->tv_nsec < 1'000'000'000;
}

std::chrono::nanoseconds since_epoch(const timespec* t) {
  return std::chrono::seconds(t->tv_sec) + std::chrono::nanoseconds(t->tv_nsec);
}

// Calls f(deadline) with `deadline` as a time_point of the clock `clock`
// names (steady_clock is CLOCK_MONOTONIC, system_clock CLOCK_REALTIME).
template <class F>
int with_deadline(clockid_t clock, const timespec* deadline, F f) {
  if (!valid(deadline)) return EINVAL;
  using namespace std::chrono;
  if (clock == CLOCK_MONOTONIC)
    return f(steady_clock::time_point(duration_cast<steady_clock::duration>(since_epoch(deadline))));
  if (clock == CLOCK_REALTIME)
    return f(system_clock::time_point(duration_cast<system_clock::duration>(since_epoch(deadline))));
  return EINVAL;
}

// destroy: EINVAL when the bytes are misaligned, destroyed already or no
// lock at all, EBUSY while a thread holds the mutex; otherwise the
// destructor (which poisons).
template <class M>
int destroy(M& m) {
  auto* bytes = reinterpret_cast<rfutex::detail::lock_storage*>(&m);
  if (rfutex::protocol::misaligned(bytes, alignof(rfutex::detail::lock_storage))) return EINVAL;
  // relaxed: a snapshot; destroying a mutex others still use is the caller's error.
  if (std::atomic_ref<std::uint32_t>(bytes->state).load(std::memory_order_relaxed) >
      rfutex::detail::state_not_recoverable)
    return EINVAL;  // destroyed (state_destroyed), or garbage
  if (static_cast<std::uint32_t>(m.owner()) >= rfutex::detail::tid_limit) return EINVAL;
  if (m.owner() != 0) return EBUSY;
  std::destroy_at(&m);
  return 0;
}

template <class M>
int timedlock(M& m, clockid_t clock, const timespec* deadline) {
  return guarded_call([&] {
    return with_deadline(clock, deadline, [&](auto at) { return from(m.try_lock_until(at)); });
  });
}

}  // namespace

extern "C" {

int rfutex_mutex_lock(rfutex_mutex_t* m) { return guarded_call([&] { return from(cxx(m).lock()); }); }
int rfutex_mutex_trylock(rfutex_mutex_t* m) {
  return guarded_call([&] { return from(cxx(m).try_lock()); });
}
int rfutex_mutex_timedlock(rfutex_mutex_t* m, clockid_t clock, const timespec* deadline) {
  return timedlock(cxx(m), clock, deadline);
}
int rfutex_mutex_unlock(rfutex_mutex_t* m) {
  return guarded_call([&] { return cxx(m).unlock(), 0; });
}
int rfutex_mutex_consistent(rfutex_mutex_t* m) {
  return guarded_call([&] { return cxx(m).make_consistent(), 0; });
}
int rfutex_mutex_destroy(rfutex_mutex_t* m) {
  return guarded_call([&] { return destroy(cxx(m)); });
}
pid_t rfutex_mutex_owner(const rfutex_mutex_t* m) {
  return cxx(const_cast<rfutex_mutex_t*>(m)).owner();
}
int rfutex_mutex_owner_alive(const rfutex_mutex_t* m) {
  return cxx(const_cast<rfutex_mutex_t*>(m)).owner_alive() ? 1 : 0;
}

int rfutex_pi_mutex_lock(rfutex_pi_mutex_t* m) {
  return guarded_call([&] { return from(cxx(m).lock()); });
}
int rfutex_pi_mutex_trylock(rfutex_pi_mutex_t* m) {
  return guarded_call([&] { return from(cxx(m).try_lock()); });
}
int rfutex_pi_mutex_timedlock(rfutex_pi_mutex_t* m, clockid_t clock, const timespec* deadline) {
  return timedlock(cxx(m), clock, deadline);
}
int rfutex_pi_mutex_unlock(rfutex_pi_mutex_t* m) {
  return guarded_call([&] { return cxx(m).unlock(), 0; });
}
int rfutex_pi_mutex_consistent(rfutex_pi_mutex_t* m) {
  return guarded_call([&] { return cxx(m).make_consistent(), 0; });
}
int rfutex_pi_mutex_destroy(rfutex_pi_mutex_t* m) {
  return guarded_call([&] { return destroy(cxx(m)); });
}
pid_t rfutex_pi_mutex_owner(const rfutex_pi_mutex_t* m) {
  return cxx(const_cast<rfutex_pi_mutex_t*>(m)).owner();
}
int rfutex_pi_mutex_owner_alive(const rfutex_pi_mutex_t* m) {
  return cxx(const_cast<rfutex_pi_mutex_t*>(m)).owner_alive() ? 1 : 0;
}

int rfutex_cond_wait(rfutex_cond_t* c, rfutex_mutex_t* m) {
  return guarded_call([&] { return from(cxx(c).wait(cxx(m))); });
}
int rfutex_cond_timedwait(rfutex_cond_t* c, rfutex_mutex_t* m, clockid_t clock,
                          const timespec* deadline) {
  return guarded_call([&] {
    return with_deadline(clock, deadline, [&](auto at) {
      const rfutex::cv_wait_result r = cxx(c).wait_until(cxx(m), at);
      if (r.lock == rfutex::lock_status::owner_died) return EOWNERDEAD;
      return r.status == std::cv_status::timeout ? ETIMEDOUT : 0;
    });
  });
}
int rfutex_cond_signal(rfutex_cond_t* c) { return cxx(c).notify_one(), 0; }
int rfutex_cond_broadcast(rfutex_cond_t* c) { return cxx(c).notify_all(), 0; }

int rfutex_rwlock_rdlock(rfutex_rwlock_t* l) { return guarded_call([&] { return from(cxx(l).lock_shared()); }); }
int rfutex_rwlock_tryrdlock(rfutex_rwlock_t* l) {
  return guarded_call([&] { return from(cxx(l).try_lock_shared()); });
}
int rfutex_rwlock_timedrdlock(rfutex_rwlock_t* l, clockid_t clock, const timespec* deadline) {
  return guarded_call([&] {
    return with_deadline(clock, deadline, [&](auto at) { return from(cxx(l).try_lock_shared_until(at)); });
  });
}
int rfutex_rwlock_wrlock(rfutex_rwlock_t* l) { return guarded_call([&] { return from(cxx(l).lock()); }); }
int rfutex_rwlock_trywrlock(rfutex_rwlock_t* l) { return guarded_call([&] { return from(cxx(l).try_lock()); }); }
int rfutex_rwlock_timedwrlock(rfutex_rwlock_t* l, clockid_t clock, const timespec* deadline) {
  return timedlock(cxx(l), clock, deadline);
}
int rfutex_rwlock_unlock(rfutex_rwlock_t* l) {
  return guarded_call([&] {
    auto& m = cxx(l);
    if (m.writer() == static_cast<pid_t>(gettid()))
      m.unlock();
    else
      m.unlock_shared();  // EPERM when the caller holds neither side
    return 0;
  });
}
int rfutex_rwlock_consistent(rfutex_rwlock_t* l) {
  return guarded_call([&] { return cxx(l).make_consistent(), 0; });
}

int rfutex_once_call(rfutex_once_t* o, void (*init)(void*), void* arg) {
  if (init == nullptr) return EINVAL;
  return guarded_call([&] {
    switch (cxx(o).call([&] { init(arg); })) {
      case rfutex::shared_once::outcome::ran: return 0;
      case rfutex::shared_once::outcome::ran_after_crash: return EOWNERDEAD;
      case rfutex::shared_once::outcome::already_done: return EALREADY;
    }
    return EINVAL;
  });
}

int rfutex_unmap(void* address, size_t length) {
  return guarded_call([&] { return rfutex::unmap(address, length), 0; });
}

const char* rfutex_unlock_strategy(void) {
  try {
    return rfutex::to_string(rfutex::active_unlock_strategy()).data();
  } catch (...) {
    return nullptr;
  }
}

}  // extern "C"
