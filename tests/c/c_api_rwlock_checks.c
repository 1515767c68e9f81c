/* SPDX-License-Identifier: MIT */
/* The reader-writer lock and one-time initialisation of the C interface,
 * from C11, with real deaths: each check returns 0 or the line of its first
 * failed expectation. */
#define _GNU_SOURCE
#include <errno.h>
#include <rfutex/rfutex.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond) \
  do {              \
    if (!(cond)) return __LINE__; \
  } while (0)

struct arena {
  rfutex_rwlock_t lock;
  rfutex_once_t once;
  int table[4];
  int runs;
};

static struct arena *shared_arena(void) {
  void *p = mmap(NULL, sizeof(struct arena), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p; /* zero-filled: an unlocked rwlock, a fresh once */
}

/* A child that takes the write side and dies holding it. */
static int writer_dies_holding(struct arena *a) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (rfutex_rwlock_wrlock(&a->lock) != 0) _exit(1);
    raise(SIGKILL);
    _exit(2);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status)) return -1;
  return 0;
}

int rfutex_c_check_rwlock(void) {
  struct arena *a = shared_arena();
  CHECK(a != NULL);
  CHECK(rfutex_rwlock_rdlock(&a->lock) == 0);
  CHECK(rfutex_rwlock_rdlock(&a->lock) == 0); /* a second slot, same thread */
  CHECK(rfutex_rwlock_trywrlock(&a->lock) == EDEADLK);
  CHECK(rfutex_rwlock_unlock(&a->lock) == 0);
  CHECK(rfutex_rwlock_unlock(&a->lock) == 0);
  CHECK(rfutex_rwlock_unlock(&a->lock) == EPERM);
  CHECK(rfutex_rwlock_wrlock(&a->lock) == 0);
  CHECK(rfutex_rwlock_rdlock(&a->lock) == EDEADLK);
  struct timespec past = {0, 0};
  CHECK(rfutex_rwlock_timedwrlock(&a->lock, CLOCK_REALTIME, &past) == EDEADLK);
  CHECK(rfutex_rwlock_unlock(&a->lock) == 0);
  CHECK(rfutex_rwlock_timedrdlock(&a->lock, CLOCK_TAI, &past) == EINVAL);

  CHECK(writer_dies_holding(a) == 0);
  CHECK(rfutex_rwlock_tryrdlock(&a->lock) == EOWNERDEAD); /* a reader learns of it */
  CHECK(rfutex_rwlock_unlock(&a->lock) == 0);
  struct timespec soon;
  clock_gettime(CLOCK_MONOTONIC, &soon);
  soon.tv_sec += 5;
  CHECK(rfutex_rwlock_timedwrlock(&a->lock, CLOCK_MONOTONIC, &soon) == EOWNERDEAD);
  CHECK(rfutex_rwlock_consistent(&a->lock) == 0);
  CHECK(rfutex_rwlock_unlock(&a->lock) == 0);
  CHECK(rfutex_rwlock_rdlock(&a->lock) == 0);
  CHECK(rfutex_rwlock_unlock(&a->lock) == 0);

  CHECK(writer_dies_holding(a) == 0);
  CHECK(rfutex_rwlock_wrlock(&a->lock) == EOWNERDEAD);
  CHECK(rfutex_rwlock_unlock(&a->lock) == 0); /* without repair */
  CHECK(rfutex_rwlock_rdlock(&a->lock) == ENOTRECOVERABLE);
  CHECK(rfutex_rwlock_wrlock(&a->lock) == ENOTRECOVERABLE);
  munmap(a, sizeof *a);
  return 0;
}

static void build(void *p) {
  struct arena *a = p;
  ++a->runs;
  for (int i = 0; i < 4; ++i) a->table[i] = 100 + i;
}

static void build_and_die(void *p) {
  struct arena *a = p;
  a->table[0] = 100;
  raise(SIGKILL); /* half-way, holding the once's mutex */
}

int rfutex_c_check_once(void) {
  struct arena *a = shared_arena();
  CHECK(a != NULL);
  CHECK(rfutex_once_call(&a->once, NULL, a) == EINVAL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    rfutex_once_call(&a->once, build_and_die, a);
    _exit(1);
  }
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
  CHECK(rfutex_once_call(&a->once, build, a) == EOWNERDEAD);
  CHECK(a->runs == 1 && a->table[3] == 103);
  CHECK(rfutex_once_call(&a->once, build, a) == EALREADY);
  CHECK(a->runs == 1);
  munmap(a, sizeof *a);
  return 0;
}
