// SPDX-License-Identifier: MIT
/* POSIX behaviours of the C interface, used from C (C11): cancellation of a
 * condition-variable waiter, a PI deadlock cycle, and bytes that are no
 * usable lock. Each check returns 0, or the line of the first expectation
 * that failed. Run by c_api_posix_test.cpp. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rfutex/rfutex.h"

#define EXPECT(cond) \
  do {               \
    if (!(cond)) return __LINE__; \
  } while (0)

/* Blocks until thread `tid` of this process sleeps in futex() on `word`. */
static void wait_until_blocked_on(pid_t tid, const void* word) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
  for (;;) {
    FILE* f = fopen(path, "r");
    long nr = -1;
    unsigned long long address = 0;
    int fields = f != NULL ? fscanf(f, "%ld %llx", &nr, &address) : 0;
    if (f != NULL) fclose(f);
    int is_futex = nr == SYS_futex;
#ifdef SYS_futex_time64
    is_futex = is_futex || nr == SYS_futex_time64;
#endif
    if (fields == 2 && is_futex && address == (unsigned long long)(unsigned long)word) return;
    sched_yield();
  }
}

/* ---- cancellation of rfutex_cond_wait / rfutex_cond_timedwait ---- */

struct cancel_scene {
  rfutex_mutex_t m;
  rfutex_cond_t c;
  int cancel_type;
  int timed;
  volatile pid_t tid;
  volatile int held_in_cleanup;
};

static void unlock_in_cleanup(void* arg) {
  struct cancel_scene* s = arg;
  s->held_in_cleanup = rfutex_mutex_owner(&s->m) == gettid();
  if (s->held_in_cleanup) rfutex_mutex_unlock(&s->m);
}

static void* cond_waiter(void* arg) {
  struct cancel_scene* s = arg;
  if (rfutex_mutex_lock(&s->m) != 0) return NULL;
  pthread_setcanceltype(s->cancel_type, NULL);
  pthread_cleanup_push(unlock_in_cleanup, s);
  __atomic_store_n(&s->tid, gettid(), __ATOMIC_SEQ_CST);
  for (;;) { /* nobody signals: only cancellation ends this */
    if (s->timed) {
      struct timespec t;
      clock_gettime(CLOCK_MONOTONIC, &t);
      t.tv_sec += 3600;
      rfutex_cond_timedwait(&s->c, &s->m, CLOCK_MONOTONIC, &t);
    } else {
      rfutex_cond_wait(&s->c, &s->m);
    }
  }
  pthread_cleanup_pop(0);
  return NULL;
}

/* In a forked child (an abort there is a failed check, not a dead test
 * binary; its alarm bounds a wait cancellation fails to end). */
static int cancel_a_waiter_in_child(int cancel_type, int timed) {
  fflush(NULL);
  const pid_t child = fork();
  if (child < 0) return __LINE__;
  if (child == 0) {
    alarm(30);
    static struct cancel_scene s;
    memset(&s, 0, sizeof s);
    s.cancel_type = cancel_type;
    s.timed = timed;
    pthread_t t;
    if (pthread_create(&t, NULL, cond_waiter, &s) != 0) _exit(10);
    while (__atomic_load_n(&s.tid, __ATOMIC_SEQ_CST) == 0) sched_yield();
    wait_until_blocked_on(s.tid, &s.c);
    if (pthread_cancel(t) != 0) _exit(11);
    void* result = NULL;
    if (pthread_join(t, &result) != 0) _exit(12);
    if (result != PTHREAD_CANCELED) _exit(13);
    if (!s.held_in_cleanup) _exit(14);
    if (rfutex_mutex_owner(&s.m) != 0) _exit(15);
    if (rfutex_mutex_trylock(&s.m) != 0) _exit(16);
    _exit(0);
  }
  int status = 0;
  EXPECT(waitpid(child, &status, 0) == child);
  if (!WIFEXITED(status)) return WIFSIGNALED(status) ? 1000 + WTERMSIG(status) : __LINE__;
  return WEXITSTATUS(status) == 0 ? 0 : 2000 + WEXITSTATUS(status);
}

int rfutex_c_check_cancel_deferred(void) {
  return cancel_a_waiter_in_child(PTHREAD_CANCEL_DEFERRED, 0);
}
int rfutex_c_check_cancel_asynchronous(void) {
  return cancel_a_waiter_in_child(PTHREAD_CANCEL_ASYNCHRONOUS, 0);
}
int rfutex_c_check_cancel_timed_deferred(void) {
  return cancel_a_waiter_in_child(PTHREAD_CANCEL_DEFERRED, 1);
}
int rfutex_c_check_cancel_timed_asynchronous(void) {
  return cancel_a_waiter_in_child(PTHREAD_CANCEL_ASYNCHRONOUS, 1);
}

/* ---- a PI deadlock cycle ---- */

struct cycle {
  rfutex_pi_mutex_t x, y;
  volatile pid_t a_tid;
};

/* Thread A: holds X, then sleeps locking Y (held by the checking thread). */
static void* hold_x_lock_y(void* arg) {
  struct cycle* c = arg;
  if (rfutex_pi_mutex_lock(&c->x) != 0) return NULL;
  __atomic_store_n(&c->a_tid, gettid(), __ATOMIC_SEQ_CST);
  if (rfutex_pi_mutex_lock(&c->y) == 0) rfutex_pi_mutex_unlock(&c->y);
  rfutex_pi_mutex_unlock(&c->x);
  return NULL;
}

int rfutex_c_check_pi_deadlock_cycle(void) {
  alarm(60);
  static struct cycle c;
  memset(&c, 0, sizeof c);
  EXPECT(rfutex_pi_mutex_lock(&c.y) == 0);
  pthread_t a;
  EXPECT(pthread_create(&a, NULL, hold_x_lock_y, &c) == 0);
  while (__atomic_load_n(&c.a_tid, __ATOMIC_SEQ_CST) == 0) sched_yield();
  wait_until_blocked_on(c.a_tid, &c.y);

  struct timespec past;
  clock_gettime(CLOCK_MONOTONIC, &past);
  past.tv_sec -= 1;
  EXPECT(rfutex_pi_mutex_timedlock(&c.x, CLOCK_MONOTONIC, &past) == ETIMEDOUT);
  struct timespec soon;
  clock_gettime(CLOCK_REALTIME, &soon);
  soon.tv_nsec += 10000000L;
  if (soon.tv_nsec >= 1000000000L) soon.tv_sec += 1, soon.tv_nsec -= 1000000000L;
  EXPECT(rfutex_pi_mutex_timedlock(&c.x, CLOCK_REALTIME, &soon) == ETIMEDOUT);
  EXPECT(rfutex_pi_mutex_trylock(&c.x) == EBUSY);
  /* A cycle, told apart from a relock by the owner. */
  EXPECT(rfutex_pi_mutex_lock(&c.x) == EDEADLK);
  EXPECT(rfutex_pi_mutex_owner(&c.x) == c.a_tid);
  EXPECT(rfutex_pi_mutex_lock(&c.y) == EDEADLK);
  EXPECT(rfutex_pi_mutex_owner(&c.y) == gettid());

  EXPECT(rfutex_pi_mutex_unlock(&c.y) == 0);
  EXPECT(pthread_join(a, NULL) == 0);
  EXPECT(rfutex_pi_mutex_owner(&c.x) == 0);
  alarm(0);
  return 0;
}

/* ---- bytes that are no usable lock ---- */

int rfutex_c_check_bad_bytes(void) {
  alarm(60);
  _Alignas(8) unsigned char raw[64];
  memset(raw, 0, sizeof raw);
  rfutex_mutex_t* misaligned = (rfutex_mutex_t*)(void*)(raw + 4);
  EXPECT(rfutex_mutex_lock(misaligned) == EINVAL);
  EXPECT(rfutex_mutex_trylock(misaligned) == EINVAL);
  EXPECT(rfutex_mutex_unlock(misaligned) == EINVAL);
  EXPECT(rfutex_mutex_destroy(misaligned) == EINVAL);
  rfutex_pi_mutex_t* misaligned_pi = (rfutex_pi_mutex_t*)(void*)(raw + 4);
  EXPECT(rfutex_pi_mutex_lock(misaligned_pi) == EINVAL);
  EXPECT(rfutex_pi_mutex_trylock(misaligned_pi) == EINVAL);

  rfutex_mutex_t ones;
  memset(&ones, 0xff, sizeof ones);
  EXPECT(rfutex_mutex_lock(&ones) == EINVAL);
  EXPECT(rfutex_mutex_trylock(&ones) == EINVAL);
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  EXPECT(rfutex_mutex_timedlock(&ones, CLOCK_MONOTONIC, &t) == EINVAL);
  rfutex_pi_mutex_t ones_pi;
  memset(&ones_pi, 0xff, sizeof ones_pi);
  EXPECT(rfutex_pi_mutex_lock(&ones_pi) == EINVAL);

  rfutex_mutex_t m = RFUTEX_MUTEX_INITIALIZER;
  EXPECT(rfutex_mutex_lock(&m) == 0);
  EXPECT(rfutex_mutex_owner_alive(&m) == 1);
  EXPECT(rfutex_mutex_destroy(&m) == EBUSY);
  EXPECT(rfutex_mutex_unlock(&m) == 0);
  EXPECT(rfutex_mutex_owner_alive(&m) == 0);
  EXPECT(rfutex_mutex_destroy(&m) == 0);
  EXPECT(rfutex_mutex_lock(&m) == EINVAL);
  EXPECT(rfutex_mutex_trylock(&m) == EINVAL);
  EXPECT(rfutex_mutex_unlock(&m) == EINVAL);
  EXPECT(rfutex_mutex_destroy(&m) == EINVAL);
  memset(&m, 0, sizeof m); /* zero bytes are a fresh mutex */
  EXPECT(rfutex_mutex_lock(&m) == 0);
  EXPECT(rfutex_mutex_unlock(&m) == 0);

  rfutex_pi_mutex_t pm = RFUTEX_PI_MUTEX_INITIALIZER;
  EXPECT(rfutex_pi_mutex_destroy(&pm) == 0);
  EXPECT(rfutex_pi_mutex_lock(&pm) == EINVAL);
  EXPECT(rfutex_pi_mutex_owner_alive(&pm) == 0);

  rfutex_cond_t c = RFUTEX_COND_INITIALIZER;
  rfutex_mutex_t free_mutex = RFUTEX_MUTEX_INITIALIZER;
  EXPECT(rfutex_cond_wait(&c, &free_mutex) == EPERM);
  alarm(0);
  return 0;
}
