// SPDX-License-Identifier: MIT
/* The C interface, used from C (C11): each check returns 0, or the line of
 * the first expectation that failed. Run by c_api_test.cpp. A check that
 * forks a child kills and reaps it before returning, failed or not. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rfutex/rfutex.h"

#define EXPECT(cond) \
  do {               \
    if (!(cond)) return __LINE__; \
  } while (0)

struct shared_state {
  rfutex_mutex_t m;
  rfutex_pi_mutex_t pm;
  rfutex_cond_t c;
  volatile int locked;
};

static struct shared_state* map_shared(void) {
  void* p = mmap(NULL, sizeof(struct shared_state), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : (struct shared_state*)p;
}

static struct timespec in_ms(clockid_t clock, long ms) {
  struct timespec t;
  clock_gettime(clock, &t);
  /* Seconds apart: ms * 1000000 overflows a 32-bit long beyond 2147 ms. */
  t.tv_sec += ms / 1000;
  t.tv_nsec += (ms % 1000) * 1000000L;
  t.tv_sec += t.tv_nsec / 1000000000L;
  t.tv_nsec %= 1000000000L;
  return t;
}

int rfutex_c_check_basic(void) {
  static rfutex_mutex_t m = RFUTEX_MUTEX_INITIALIZER;
  EXPECT(rfutex_unlock_strategy() != NULL);
  EXPECT(rfutex_mutex_owner(&m) == 0);
  EXPECT(rfutex_mutex_lock(&m) == 0);
  EXPECT(rfutex_mutex_owner(&m) == gettid());
  EXPECT(rfutex_mutex_lock(&m) == EDEADLK);
  EXPECT(rfutex_mutex_consistent(&m) == EINVAL);
  EXPECT(rfutex_mutex_unlock(&m) == 0);
  EXPECT(rfutex_mutex_unlock(&m) == EPERM);
  EXPECT(rfutex_mutex_trylock(&m) == 0);
  EXPECT(rfutex_mutex_unlock(&m) == 0);
  struct timespec bad = {0, 2000000000L};
  EXPECT(rfutex_mutex_timedlock(&m, CLOCK_MONOTONIC, &bad) == EINVAL);
  bad.tv_nsec = 1000000000L; /* the first invalid value */
  EXPECT(rfutex_mutex_timedlock(&m, CLOCK_MONOTONIC, &bad) == EINVAL);
  bad.tv_nsec = -1;
  static rfutex_pi_mutex_t pm = RFUTEX_PI_MUTEX_INITIALIZER;
  EXPECT(rfutex_pi_mutex_timedlock(&pm, CLOCK_REALTIME, &bad) == EINVAL);
  struct timespec t = in_ms(CLOCK_MONOTONIC, 1);
  EXPECT(rfutex_mutex_timedlock(&m, CLOCK_PROCESS_CPUTIME_ID, &t) == EINVAL);
  EXPECT(rfutex_mutex_owner(&m) == 0);
  return 0;
}

/* The calling thread's robust list head, as the kernel knows it. */
static struct robust_list_head* own_robust_list(void) {
  struct robust_list_head* head = NULL;
  size_t length = 0;
  if (syscall(SYS_get_robust_list, 0, &head, &length) != 0) return NULL;
  return head;
}

/* Destroying a lock runs the unmap guard over its bytes: a list_op_pending
 * left pointing into them (as by an unlocker stopped between its release and
 * clearing `pending`) is cleared, one pointing just past them is kept. The
 * pointers are only compared, never followed: the words are a lock's last
 * four bytes and the four after it. `kept` and `cleared` are two locks of
 * `size` bytes, each destroyed once. */
static int destroy_scrubs(void* kept, void* cleared, size_t size, int (*destroy)(void*)) {
  struct robust_list_head* head = own_robust_list();
  EXPECT(head != NULL);
  EXPECT(head->list_op_pending == NULL);
  struct robust_list* past_end =
      (struct robust_list*)((char*)kept + size - head->futex_offset);
  struct robust_list* last_word =
      (struct robust_list*)((char*)cleared + size - sizeof(uint32_t) - head->futex_offset);
  head->list_op_pending = past_end;
  const int kept_result = destroy(kept);
  const int was_kept = head->list_op_pending == past_end;
  head->list_op_pending = last_word;
  const int cleared_result = destroy(cleared);
  const int was_cleared = head->list_op_pending == NULL;
  head->list_op_pending = NULL;
  EXPECT(kept_result == 0);
  EXPECT(was_kept);
  EXPECT(cleared_result == 0);
  EXPECT(was_cleared);
  return 0;
}

static int destroy_mutex(void* m) { return rfutex_mutex_destroy((rfutex_mutex_t*)m); }
static int destroy_pi_mutex(void* m) { return rfutex_pi_mutex_destroy((rfutex_pi_mutex_t*)m); }

int rfutex_c_check_destroy(void) {
  static rfutex_mutex_t m[2] = {RFUTEX_MUTEX_INITIALIZER, RFUTEX_MUTEX_INITIALIZER};
  static rfutex_pi_mutex_t pm[2] = {RFUTEX_PI_MUTEX_INITIALIZER, RFUTEX_PI_MUTEX_INITIALIZER};
  /* Used once first, so that this thread is known to rfutex. */
  EXPECT(rfutex_mutex_lock(&m[0]) == 0);
  EXPECT(rfutex_mutex_unlock(&m[0]) == 0);
  const int line = destroy_scrubs(&m[0], &m[1], sizeof m[0], destroy_mutex);
  if (line != 0) return line;
  return destroy_scrubs(&pm[0], &pm[1], sizeof pm[0], destroy_pi_mutex);
}

/* In a forked child: die with the parent, so that a check that fails (or
 * the test process killed by its alarm) never leaves a child holding locks. */
static void die_with_parent(pid_t parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(1);
}

/* Kills `child` (if any) and reaps it; returns its wait status. */
static int kill_and_reap(pid_t child) {
  int status = 0;
  if (child <= 0) return 0;
  kill(child, SIGKILL);
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

/* Forks a child that takes both mutexes of `s` and then sleeps until
 * killed. Returns its pid once it holds them; -1 (reaped) if it could not. */
static pid_t start_holder(struct shared_state* s) {
  s->locked = 0;
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child <= 0) {
    if (child < 0) return -1;
    die_with_parent(parent);
    if (rfutex_mutex_lock(&s->m) != 0 || rfutex_pi_mutex_lock(&s->pm) != 0) _exit(1);
    s->locked = 1;
    for (;;) pause();
  }
  while (!s->locked) {
    int status = 0;
    if (waitpid(child, &status, WNOHANG) == child) return -1;
    sched_yield();
  }
  return child;
}

/* A child takes both mutexes of `s` and exits holding them (the kernel
 * marks them FUTEX_OWNER_DIED at its exit). True when it did just that. */
static int holder_exits(struct shared_state* s) {
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child < 0) return 0;
  if (child == 0) {
    die_with_parent(parent);
    if (rfutex_mutex_lock(&s->m) != 0 || rfutex_pi_mutex_lock(&s->pm) != 0) _exit(1);
    _exit(0);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return 0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* a <= b */
static int not_after(const struct timespec* a, const struct timespec* b) {
  return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

/* A timedlock that times out does so at its deadline, not before (the
 * deadline's nanoseconds count). */
static int times_out_at(clockid_t clock, int (*timedlock)(void*, clockid_t, const struct timespec*),
                        void* lock) {
  const struct timespec t = in_ms(clock, 10);
  EXPECT(timedlock(lock, clock, &t) == ETIMEDOUT);
  struct timespec now;
  clock_gettime(clock, &now);
  EXPECT(not_after(&t, &now));
  return 0;
}

static int timedlock_mutex(void* m, clockid_t clock, const struct timespec* t) {
  return rfutex_mutex_timedlock((rfutex_mutex_t*)m, clock, t);
}
static int timedlock_pi_mutex(void* m, clockid_t clock, const struct timespec* t) {
  return rfutex_pi_mutex_timedlock((rfutex_pi_mutex_t*)m, clock, t);
}

/* While another process holds them: trylock is EBUSY, timedlock ETIMEDOUT,
 * unlock EPERM. */
static int checks_while_held(struct shared_state* s) {
  EXPECT(rfutex_mutex_trylock(&s->m) == EBUSY);
  EXPECT(rfutex_pi_mutex_trylock(&s->pm) == EBUSY);
  int line = times_out_at(CLOCK_REALTIME, timedlock_mutex, &s->m);
  if (line == 0) line = times_out_at(CLOCK_MONOTONIC, timedlock_mutex, &s->m);
  if (line == 0) line = times_out_at(CLOCK_REALTIME, timedlock_pi_mutex, &s->pm);
  if (line == 0) line = times_out_at(CLOCK_MONOTONIC, timedlock_pi_mutex, &s->pm);
  if (line != 0) return line;
  EXPECT(rfutex_mutex_unlock(&s->m) == EPERM);
  return 0;
}

/* A child process takes both mutexes and is killed: the parent gets
 * EOWNERDEAD from each, repairs, and they work again; while the child holds
 * them, trylock is EBUSY and timedlock ETIMEDOUT. */
int rfutex_c_check_owner_death(void) {
  struct shared_state* s = map_shared();
  EXPECT(s != NULL);
  const pid_t child = start_holder(s);
  EXPECT(child > 0);
  const int failed_at = checks_while_held(s);
  const int status = kill_and_reap(child);
  if (failed_at != 0) return failed_at;
  EXPECT(WIFSIGNALED(status));
  EXPECT(rfutex_mutex_lock(&s->m) == EOWNERDEAD);
  EXPECT(rfutex_mutex_consistent(&s->m) == 0);
  EXPECT(rfutex_mutex_unlock(&s->m) == 0);
  EXPECT(rfutex_mutex_lock(&s->m) == 0);
  EXPECT(rfutex_mutex_unlock(&s->m) == 0);
  EXPECT(rfutex_pi_mutex_lock(&s->pm) == EOWNERDEAD);
  EXPECT(rfutex_pi_mutex_unlock(&s->pm) == 0); /* without repair: lost for good */
  EXPECT(rfutex_pi_mutex_lock(&s->pm) == ENOTRECOVERABLE);
  EXPECT(rfutex_unmap(s, sizeof *s) == 0);
  return 0;
}

/* After an EOWNERDEAD acquisition: the caller holds the lock; repair and
 * release it. */
#define EXPECT_REPAIRED(kind, lock)                       \
  do {                                                    \
    EXPECT(rfutex_##kind##_owner(lock) == gettid());      \
    EXPECT(rfutex_##kind##_consistent(lock) == 0);        \
    EXPECT(rfutex_##kind##_unlock(lock) == 0);            \
  } while (0)

/* Every way of acquiring reports the death of the previous owner as
 * EOWNERDEAD: trylock, timedlock on both clocks, for both kinds. */
int rfutex_c_check_owner_death_every_acquisition(void) {
  struct shared_state* s = map_shared();
  EXPECT(s != NULL);
  EXPECT(holder_exits(s));
  EXPECT(rfutex_mutex_trylock(&s->m) == EOWNERDEAD);
  EXPECT_REPAIRED(mutex, &s->m);
  EXPECT(rfutex_pi_mutex_trylock(&s->pm) == EOWNERDEAD);
  EXPECT_REPAIRED(pi_mutex, &s->pm);

  EXPECT(holder_exits(s));
  struct timespec t = in_ms(CLOCK_MONOTONIC, 10000);
  EXPECT(rfutex_mutex_timedlock(&s->m, CLOCK_MONOTONIC, &t) == EOWNERDEAD);
  EXPECT_REPAIRED(mutex, &s->m);
  t = in_ms(CLOCK_REALTIME, 10000);
  EXPECT(rfutex_pi_mutex_timedlock(&s->pm, CLOCK_REALTIME, &t) == EOWNERDEAD);
  EXPECT_REPAIRED(pi_mutex, &s->pm);

  EXPECT(holder_exits(s));
  t = in_ms(CLOCK_REALTIME, 10000);
  EXPECT(rfutex_mutex_timedlock(&s->m, CLOCK_REALTIME, &t) == EOWNERDEAD);
  EXPECT_REPAIRED(mutex, &s->m);
  t = in_ms(CLOCK_MONOTONIC, 10000);
  EXPECT(rfutex_pi_mutex_timedlock(&s->pm, CLOCK_MONOTONIC, &t) == EOWNERDEAD);
  EXPECT_REPAIRED(pi_mutex, &s->pm);

  EXPECT(rfutex_mutex_trylock(&s->m) == 0); /* repaired: plain acquisitions again */
  EXPECT(rfutex_mutex_unlock(&s->m) == 0);
  EXPECT(rfutex_unmap(s, sizeof *s) == 0);
  return 0;
}

/* A timed wait whose mutex's holder died meanwhile returns EOWNERDEAD, with
 * the mutex held: a child takes the mutex the waiter released, signals and
 * exits holding it. */
static int timedwait_sees_owner_death(struct shared_state* s, clockid_t clock) {
  EXPECT(rfutex_mutex_lock(&s->m) == 0);
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child == 0) {
    die_with_parent(parent);
    if (rfutex_mutex_lock(&s->m) != 0) _exit(1); /* once the waiter has released it */
    rfutex_cond_signal(&s->c);
    _exit(0);
  }
  if (child < 0) {
    rfutex_mutex_unlock(&s->m);
    return __LINE__;
  }
  const struct timespec t = in_ms(clock, 5000);
  const int r = rfutex_cond_timedwait(&s->c, &s->m, clock, &t);
  const int status = kill_and_reap(child);
  EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT(r == EOWNERDEAD);
  EXPECT_REPAIRED(mutex, &s->m);
  return 0;
}

int rfutex_c_check_timedwait_owner_death(void) {
  struct shared_state* s = map_shared();
  EXPECT(s != NULL);
  int line = timedwait_sees_owner_death(s, CLOCK_MONOTONIC);
  if (line == 0) line = timedwait_sees_owner_death(s, CLOCK_REALTIME);
  EXPECT(rfutex_unmap(s, sizeof *s) == 0);
  return line;
}

static rfutex_mutex_t cv_mutex = RFUTEX_MUTEX_INITIALIZER;
static rfutex_cond_t cv = RFUTEX_COND_INITIALIZER;
static int cv_ready = 0;

static void* cv_signaller(void* arg) {
  (void)arg;
  rfutex_mutex_lock(&cv_mutex);
  cv_ready = 1;
  rfutex_mutex_unlock(&cv_mutex);
  rfutex_cond_broadcast(&cv);
  return NULL;
}

int rfutex_c_check_condition_variable(void) {
  EXPECT(rfutex_cond_wait(&cv, &cv_mutex) == EPERM);
  EXPECT(rfutex_mutex_lock(&cv_mutex) == 0);
  struct timespec t = in_ms(CLOCK_MONOTONIC, 5);
  EXPECT(rfutex_cond_timedwait(&cv, &cv_mutex, CLOCK_MONOTONIC, &t) == ETIMEDOUT);
  EXPECT(rfutex_mutex_owner(&cv_mutex) == gettid());
  t = in_ms(CLOCK_REALTIME, 5);
  EXPECT(rfutex_cond_timedwait(&cv, &cv_mutex, CLOCK_REALTIME, &t) == ETIMEDOUT);
  EXPECT(rfutex_mutex_owner(&cv_mutex) == gettid());
  pthread_t th;
  EXPECT(pthread_create(&th, NULL, cv_signaller, NULL) == 0);
  while (!cv_ready) EXPECT(rfutex_cond_wait(&cv, &cv_mutex) == 0);
  EXPECT(rfutex_mutex_unlock(&cv_mutex) == 0);
  pthread_join(th, NULL);
  return 0;
}

/* True while thread `tid` of this process sleeps in futex() on `word`
 * (/proc/self/task/<tid>/syscall: the number, then the first argument).
 * 32-bit builds call futex_time64 (64-bit timespecs). */
static int asleep_on(pid_t tid, const void* word) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
  FILE* f = fopen(path, "r");
  if (f == NULL) return 0;
  long nr = -1;
  unsigned long arg0 = 0;
  const int fields = fscanf(f, "%ld %lx", &nr, &arg0);
  fclose(f);
  int is_futex = nr == SYS_futex;
#ifdef SYS_futex_time64
  is_futex = is_futex || nr == SYS_futex_time64;
#endif
  return fields == 2 && is_futex && arg0 == (unsigned long)(uintptr_t)word;
}

static rfutex_mutex_t signal_mutex = RFUTEX_MUTEX_INITIALIZER;
static rfutex_cond_t signal_cv = RFUTEX_COND_INITIALIZER;
static atomic_int sleeper_tid = 0;
static atomic_int sleeper_returned = 0;

static void* one_wait(void* arg) {
  (void)arg;
  rfutex_mutex_lock(&signal_mutex);
  sleeper_tid = gettid();
  rfutex_cond_wait(&signal_cv, &signal_mutex); /* once: only a signal ends it */
  sleeper_returned = 1;
  rfutex_mutex_unlock(&signal_mutex);
  return NULL;
}

/* rfutex_cond_signal wakes a sleeper (confirmed asleep through /proc). */
int rfutex_c_check_signal_wakes(void) {
  pthread_t th;
  EXPECT(pthread_create(&th, NULL, one_wait, NULL) == 0);
  while (sleeper_tid == 0 || !asleep_on(sleeper_tid, &signal_cv)) {
    if (sleeper_returned) break;
    sched_yield();
  }
  EXPECT(!sleeper_returned); /* a wake-up before any signal */
  EXPECT(rfutex_cond_signal(&signal_cv) == 0);
  struct timespec bound = in_ms(CLOCK_REALTIME, 10000);
  EXPECT(pthread_timedjoin_np(th, NULL, &bound) == 0); /* else: the signal woke nobody */
  EXPECT(sleeper_returned);
  return 0;
}
