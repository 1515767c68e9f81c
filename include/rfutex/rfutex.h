/* rfutex — the C interface.
 *
 * The same locks as the C++ API, with the same bytes: an rfutex_mutex_t is
 * an rfutex::robust_mutex, an rfutex_pi_mutex_t an rfutex::robust_pi_mutex,
 * an rfutex_cond_t an rfutex::robust_condition_variable. Zero-filled memory
 * (or the *_INITIALIZER) is an unlocked mutex / a ready condition variable,
 * so memory shared by processes needs no initialisation.
 *
 * Every function returns 0 or an errno value, as pthread functions do:
 *   EOWNERDEAD       the lock is acquired; its previous owner died holding it
 *                    (repair the data, then rfutex_mutex_consistent)
 *   ENOTRECOVERABLE  it was unlocked after an owner death without repair
 *   EDEADLK          the calling thread holds it already
 *   EPERM            the calling thread does not hold it
 *   EBUSY            trylock: another thread holds it
 *   ETIMEDOUT        timedlock / timedwait: the deadline passed
 *   EINVAL           bad argument (clock, timespec), or consistent() on a
 *                    consistent mutex
 *   ENOSYS           RFUTEX_UNLOCK asks for a strategy this kernel lacks
 * A call that fails changes nothing.
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

#define RFUTEX_MUTEX_INITIALIZER {{0}}
#define RFUTEX_PI_MUTEX_INITIALIZER {{0}}
#define RFUTEX_COND_INITIALIZER {{0}}

/* Robust mutex. timedlock's deadline is absolute on `clock`, which is
 * CLOCK_MONOTONIC or CLOCK_REALTIME. destroy runs the unmap guard over the
 * mutex's bytes (call it before reusing them for anything else). */
int rfutex_mutex_lock(rfutex_mutex_t* m);
int rfutex_mutex_trylock(rfutex_mutex_t* m);
int rfutex_mutex_timedlock(rfutex_mutex_t* m, clockid_t clock, const struct timespec* deadline);
int rfutex_mutex_unlock(rfutex_mutex_t* m);
int rfutex_mutex_consistent(rfutex_mutex_t* m);
int rfutex_mutex_destroy(rfutex_mutex_t* m);
pid_t rfutex_mutex_owner(const rfutex_mutex_t* m); /* TID of the holder, 0 if free */

/* The same with priority inheritance. */
int rfutex_pi_mutex_lock(rfutex_pi_mutex_t* m);
int rfutex_pi_mutex_trylock(rfutex_pi_mutex_t* m);
int rfutex_pi_mutex_timedlock(rfutex_pi_mutex_t* m, clockid_t clock,
                              const struct timespec* deadline);
int rfutex_pi_mutex_unlock(rfutex_pi_mutex_t* m);
int rfutex_pi_mutex_consistent(rfutex_pi_mutex_t* m);
int rfutex_pi_mutex_destroy(rfutex_pi_mutex_t* m);
pid_t rfutex_pi_mutex_owner(const rfutex_pi_mutex_t* m);

/* Condition variable, with an rfutex_mutex_t. wait and timedwait return 0
 * or EOWNERDEAD (the mutex is held again in both cases), ETIMEDOUT (held
 * again too), EPERM (the caller did not hold the mutex; nothing changed). */
int rfutex_cond_wait(rfutex_cond_t* c, rfutex_mutex_t* m);
int rfutex_cond_timedwait(rfutex_cond_t* c, rfutex_mutex_t* m, clockid_t clock,
                          const struct timespec* deadline);
int rfutex_cond_signal(rfutex_cond_t* c);
int rfutex_cond_broadcast(rfutex_cond_t* c);

/* The unmap guard: munmap through it (see rfutex/unmap.hpp). */
int rfutex_unmap(void* address, size_t length);

/* "kernel", "hybrid" or "guarded"; NULL when RFUTEX_UNLOCK asks for a
 * strategy this kernel lacks (or none). */
const char* rfutex_unlock_strategy(void);

#ifdef __cplusplus
}
#endif

#endif /* RFUTEX_RFUTEX_H */
