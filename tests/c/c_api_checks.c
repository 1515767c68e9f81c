/* The C interface, used from C (C11): each check returns 0, or the line of
 * the first expectation that failed. Run by c_api_test.cpp. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
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
  t.tv_nsec += ms * 1000000L;
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
  struct timespec t = in_ms(CLOCK_MONOTONIC, 1);
  EXPECT(rfutex_mutex_timedlock(&m, CLOCK_PROCESS_CPUTIME_ID, &t) == EINVAL);
  EXPECT(rfutex_mutex_owner(&m) == 0);
  EXPECT(rfutex_mutex_destroy(&m) == 0);
  return 0;
}

/* A child process takes both mutexes and is killed: the parent gets
 * EOWNERDEAD from each, repairs, and they work again; while the child holds
 * them, trylock is EBUSY and timedlock ETIMEDOUT. */
int rfutex_c_check_owner_death(void) {
  struct shared_state* s = map_shared();
  EXPECT(s != NULL);
  const pid_t child = fork();
  if (child == 0) {
    if (rfutex_mutex_lock(&s->m) != 0 || rfutex_pi_mutex_lock(&s->pm) != 0) _exit(1);
    s->locked = 1;
    pause();
    _exit(0);
  }
  while (!s->locked) sched_yield();
  EXPECT(rfutex_mutex_trylock(&s->m) == EBUSY);
  EXPECT(rfutex_pi_mutex_trylock(&s->pm) == EBUSY);
  struct timespec t = in_ms(CLOCK_REALTIME, 10);
  EXPECT(rfutex_mutex_timedlock(&s->m, CLOCK_REALTIME, &t) == ETIMEDOUT);
  t = in_ms(CLOCK_MONOTONIC, 10);
  EXPECT(rfutex_pi_mutex_timedlock(&s->pm, CLOCK_MONOTONIC, &t) == ETIMEDOUT);
  EXPECT(rfutex_mutex_unlock(&s->m) == EPERM);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
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
  pthread_t th;
  EXPECT(pthread_create(&th, NULL, cv_signaller, NULL) == 0);
  while (!cv_ready) EXPECT(rfutex_cond_wait(&cv, &cv_mutex) == 0);
  EXPECT(rfutex_mutex_unlock(&cv_mutex) == 0);
  pthread_join(th, NULL);
  EXPECT(rfutex_cond_signal(&cv) == 0);
  return 0;
}
