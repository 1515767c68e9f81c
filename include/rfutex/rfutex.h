// SPDX-License-Identifier: MIT
/* rfutex — the C interface.
 *
 * The same locks as the C++ API, with the same bytes: an rfutex_mutex_t is
 * an rfutex::robust_mutex, an rfutex_pi_mutex_t an rfutex::robust_pi_mutex,
 * an rfutex_cond_t an rfutex::robust_condition_variable. Zero-filled memory
 * (or the *_INITIALIZER) is an unlocked mutex / a ready condition variable,
 * so memory shared by processes needs no initialisation.
 *
 * Every function returns 0 or an errno value, as pthread functions do
 * (docs/errors.md lists them per function):
 *   EOWNERDEAD       the lock is acquired; its previous owner died holding it
 *                    (repair the data, then rfutex_mutex_consistent)
 *   ENOTRECOVERABLE  an earlier holder unlocked it after an owner death
 *                    without rfutex_*_consistent
 *   EDEADLK          the calling thread holds it already; or, from
 *                    rfutex_pi_mutex_lock only, the kernel found a deadlock
 *                    cycle (the holder waits, directly or through other PI
 *                    locks, for one the caller holds): tell them apart with
 *                    rfutex_pi_mutex_owner() == gettid(). Timed locks never
 *                    report a cycle: they time out.
 *   ESRCH            rfutex_pi_mutex_lock: the holder's TID names no thread
 *                    (the bytes were copied while held, or come from another
 *                    PID namespace; see rfutex_mutex_owner_alive)
 *   EPERM            the calling thread does not hold it
 *   EBUSY            trylock: another thread holds it; destroy: it is held
 *   ETIMEDOUT        timedlock / timedwait: the deadline passed
 *   EINVAL           bad argument (clock, timespec), consistent() on a
 *                    consistent mutex, or bytes that are no usable lock: a
 *                    misaligned address, a destroyed mutex, a state or owner
 *                    no lock has (e.g. 0xff-filled memory)
 *   ENOSYS           RFUTEX_UNLOCK asks for a strategy this kernel lacks
 * A call that fails changes nothing. A lock in memory that is not writable
 * is not refused: the first store faults (SIGSEGV), as pthread_mutex_lock's.
 *
 * A plain mutex whose bytes were copied while held (stale owner TID) is held
 * for ever: lock waits, timedlock times out; the PI mutex's lock fails with
 * ESRCH. rfutex_*_owner_alive says whether the holder's TID names a live
 * thread in the caller's PID namespace (1) or not, or the mutex is free (0).
 */
#ifndef RFUTEX_RFUTEX_H
#define RFUTEX_RFUTEX_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#define RFUTEX_ALIGNAS(n) alignas(n)
#else
#define RFUTEX_ALIGNAS(n) _Alignas(n)
#endif

typedef struct rfutex_mutex {
  RFUTEX_ALIGNAS(8) unsigned char rfutex_opaque[40];
} rfutex_mutex_t;

typedef struct rfutex_pi_mutex {
  RFUTEX_ALIGNAS(8) unsigned char rfutex_opaque[40];
} rfutex_pi_mutex_t;

typedef struct rfutex_cond {
  RFUTEX_ALIGNAS(4) unsigned char rfutex_opaque[8];
} rfutex_cond_t;

/* rfutex::robust_shared_mutex (640 bytes) and rfutex::shared_once (48). */
typedef struct rfutex_rwlock {
  RFUTEX_ALIGNAS(8) unsigned char rfutex_opaque[640];
} rfutex_rwlock_t;

typedef struct rfutex_once {
  RFUTEX_ALIGNAS(8) unsigned char rfutex_opaque[48];
} rfutex_once_t;

#define RFUTEX_RWLOCK_INITIALIZER {{0}}
#define RFUTEX_ONCE_INITIALIZER {{0}}
#define RFUTEX_MUTEX_INITIALIZER {{0}}
#define RFUTEX_PI_MUTEX_INITIALIZER {{0}}
#define RFUTEX_COND_INITIALIZER {{0}}

/* Robust mutex. timedlock's deadline is absolute on `clock`, which is
 * CLOCK_MONOTONIC or CLOCK_REALTIME. destroy runs the unmap guard over the
 * mutex's bytes (call it before reusing them for anything else) and leaves
 * them poisoned: every later call fails with EINVAL until they are zeroed. */
int rfutex_mutex_lock(rfutex_mutex_t* m);
int rfutex_mutex_trylock(rfutex_mutex_t* m);
int rfutex_mutex_timedlock(rfutex_mutex_t* m, clockid_t clock, const struct timespec* deadline);
int rfutex_mutex_unlock(rfutex_mutex_t* m);
int rfutex_mutex_consistent(rfutex_mutex_t* m);
int rfutex_mutex_destroy(rfutex_mutex_t* m);
pid_t rfutex_mutex_owner(const rfutex_mutex_t* m); /* TID of the holder, 0 if free */
int rfutex_mutex_owner_alive(const rfutex_mutex_t* m);

/* The same with priority inheritance. */
int rfutex_pi_mutex_lock(rfutex_pi_mutex_t* m);
int rfutex_pi_mutex_trylock(rfutex_pi_mutex_t* m);
int rfutex_pi_mutex_timedlock(rfutex_pi_mutex_t* m, clockid_t clock,
                              const struct timespec* deadline);
int rfutex_pi_mutex_unlock(rfutex_pi_mutex_t* m);
int rfutex_pi_mutex_consistent(rfutex_pi_mutex_t* m);
int rfutex_pi_mutex_destroy(rfutex_pi_mutex_t* m);
pid_t rfutex_pi_mutex_owner(const rfutex_pi_mutex_t* m);
int rfutex_pi_mutex_owner_alive(const rfutex_pi_mutex_t* m);

/* Condition variable, with an rfutex_mutex_t. wait and timedwait return 0
 * or EOWNERDEAD (the mutex is held again in both cases), ETIMEDOUT (held
 * again too), EPERM (the caller did not hold the mutex; nothing changed).
 * Both are cancellation points, as pthread_cond_wait is: a cancelled waiter
 * holds the mutex again before its cleanup handlers run (they must unlock
 * it). */
int rfutex_cond_wait(rfutex_cond_t* c, rfutex_mutex_t* m);
int rfutex_cond_timedwait(rfutex_cond_t* c, rfutex_mutex_t* m, clockid_t clock,
                          const struct timespec* deadline);
int rfutex_cond_signal(rfutex_cond_t* c);
int rfutex_cond_broadcast(rfutex_cond_t* c);

/* Reader-writer lock that survives any reader's or writer's death
 * (rfutex/robust_shared_mutex.hpp). rdlock/wrlock return 0 or EOWNERDEAD
 * (a writer died mid-update and nobody repaired yet: readers hold it shared
 * and may read; a writer holds it exclusively and repairs, then
 * rfutex_rwlock_consistent), ENOTRECOVERABLE, EDEADLK (wrlock while holding
 * it shared, or either while holding it exclusively), EAGAIN (rdlock by a
 * thread that holds every reader slot itself); try* EBUSY; timed* ETIMEDOUT
 * (deadline absolute on CLOCK_MONOTONIC or CLOCK_REALTIME, else EINVAL).
 * unlock releases whichever side the caller holds (EPERM: neither). */
int rfutex_rwlock_rdlock(rfutex_rwlock_t* l);
int rfutex_rwlock_tryrdlock(rfutex_rwlock_t* l);
int rfutex_rwlock_timedrdlock(rfutex_rwlock_t* l, clockid_t clock, const struct timespec* deadline);
int rfutex_rwlock_wrlock(rfutex_rwlock_t* l);
int rfutex_rwlock_trywrlock(rfutex_rwlock_t* l);
int rfutex_rwlock_timedwrlock(rfutex_rwlock_t* l, clockid_t clock, const struct timespec* deadline);
int rfutex_rwlock_unlock(rfutex_rwlock_t* l);
int rfutex_rwlock_consistent(rfutex_rwlock_t* l);

/* Crash-safe one-time initialisation (rfutex/shared_once.hpp): runs
 * init(arg) unless some call completed it; an initialiser that died half-way
 * is detected and init runs again. Returns 0 (this call ran init), EOWNERDEAD
 * (it ran init after an earlier initialiser died), EALREADY (done before),
 * or the lock's errors. */
int rfutex_once_call(rfutex_once_t* o, void (*init)(void* arg), void* arg);

/* The unmap guard: munmap through it (see rfutex/unmap.hpp). */
int rfutex_unmap(void* address, size_t length);

/* "kernel", "hybrid" or "guarded"; NULL when RFUTEX_UNLOCK asks for a
 * strategy this kernel lacks (or none). */
const char* rfutex_unlock_strategy(void);

#ifdef __cplusplus
}
#endif

#endif /* RFUTEX_RFUTEX_H */
