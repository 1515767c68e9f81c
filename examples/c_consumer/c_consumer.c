// SPDX-License-Identifier: MIT
/* A C program using rfutex: a child process takes a robust mutex in shared
 * memory and is killed while holding it; the parent's lock then reports
 * EOWNERDEAD, repairs the data and marks the mutex consistent. */
#include <rfutex/rfutex.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared_state {
  rfutex_mutex_t lock;
  int in_progress; /* 1 while an update is half done */
};

int main(void) {
  /* Zero-filled MAP_SHARED memory: an unlocked mutex, no initialisation. */
  struct shared_state* s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  const pid_t child = fork();
  if (child == 0) {
    if (rfutex_mutex_lock(&s->lock) != 0) _exit(1);
    s->in_progress = 1;
    raise(SIGKILL); /* dies holding the lock */
    _exit(1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFSIGNALED(status)) {
    fprintf(stderr, "child did not die holding the lock\n");
    return 1;
  }

  int rc = rfutex_mutex_lock(&s->lock);
  if (rc != EOWNERDEAD) {
    fprintf(stderr, "lock: expected EOWNERDEAD, got %s\n", strerror(rc));
    return 1;
  }
  s->in_progress = 0; /* the repair */
  rc = rfutex_mutex_consistent(&s->lock);
  if (rc == 0) rc = rfutex_mutex_unlock(&s->lock);
  if (rc == 0) rc = rfutex_mutex_lock(&s->lock); /* an ordinary lock again */
  if (rc == 0) rc = rfutex_mutex_unlock(&s->lock);
  if (rc != 0) {
    fprintf(stderr, "after repair: %s\n", strerror(rc));
    return 1;
  }
  printf("C consumer: owner died holding the lock, recovered (unlock strategy %s)\n",
         rfutex_unlock_strategy());
  return rfutex_mutex_destroy(&s->lock) == 0 ? 0 : 1;
}
