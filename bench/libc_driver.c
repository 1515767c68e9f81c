// SPDX-License-Identifier: MIT
/* rfutex-bench-musl (and rfutex-bench-libc): the libc-side driver of
 * `rfutex bench`, in C so that it builds with musl-gcc (which has no C++).
 * Built static against musl, and dynamically against the host libc as a
 * cross-check of the harness: its glibc numbers must agree with Google
 * Benchmark's for the same mutex.
 *
 *   time <variant> <min seconds> <repetitions>
 *       "uncontended <variant> <ns per pair> <iterations>" per repetition;
 *       timed like Google Benchmark does: grow the iteration count until
 *       one batch takes <min seconds>, report that batch
 *   count <variant> <pairs>                 (for callgrind; see native_driver.cpp)
 *   contended threads[N]|processes[N] <ms> <variant>...   (N workers, 2-8; default 2)
 *       "contended <mode> <variant> <ops per second> <ops>"
 *   info                                    "libc <name> <version>"
 *
 * Variants: default, robust, robust_pshared. A second thread is alive during
 * every measurement, as in the native driver. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif

/* musl has no version macro; the build passes what its loader reports. */
#define RFUTEX_STRINGIFY2(x) #x
#define RFUTEX_STRINGIFY(x) RFUTEX_STRINGIFY2(x)
#ifdef RFUTEX_MUSL_VERSION_TEXT
#define RFUTEX_MUSL_VERSION RFUTEX_STRINGIFY(RFUTEX_MUSL_VERSION_TEXT)
#else
#define RFUTEX_MUSL_VERSION "unknown"
#endif

static const char *program = "rfutex-bench-libc";

static void die(const char *what, int error) {
  fprintf(stderr, "%s: %s: %s\n", program, what, strerror(error));
  exit(1);
}

static int usage(void) {
  fprintf(stderr,
          "usage: %s time <variant> <min seconds> <repetitions>\n"
          "       %s count <variant> <pairs>\n"
          "       %s contended threads[N]|processes[N] <ms> <variant>...\n"
          "       %s info\n"
          "variants: default, robust, robust_pshared\n",
          program, program, program, program);
  return 2;
}

/* ---- the variants ---- */

enum variant { v_default, v_robust, v_robust_pshared, v_none };

static enum variant parse_variant(const char *name) {
  if (strcmp(name, "default") == 0) return v_default;
  if (strcmp(name, "robust") == 0) return v_robust;
  if (strcmp(name, "robust_pshared") == 0) return v_robust_pshared;
  return v_none;
}

static void init_mutex(pthread_mutex_t *m, enum variant v, int pshared) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (v != v_default) pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  if (v == v_robust_pshared || pshared) pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  int r = pthread_mutex_init(m, &attr);
  if (r != 0) die("pthread_mutex_init", r);
  pthread_mutexattr_destroy(&attr);
}

/* ---- a second thread, alive and blocked ---- */

static int idle_pipe[2];
static pthread_t idle;

static void *idle_main(void *unused) {
  char c;
  (void)unused;
  while (read(idle_pipe[0], &c, 1) < 0 && errno == EINTR) {
  }
  return NULL;
}

static void start_idle_thread(void) {
  if (pipe(idle_pipe) != 0) die("pipe", errno);
  int r = pthread_create(&idle, NULL, idle_main, NULL);
  if (r != 0) die("pthread_create", r);
}

static void stop_idle_thread(void) {
  close(idle_pipe[1]);
  pthread_join(idle, NULL);
  close(idle_pipe[0]);
}

/* ---- uncontended ---- */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* noinline: the loop callgrind and the clock see is this one, as in C++. */
__attribute__((noinline)) static void pairs(pthread_mutex_t *m, long n) {
  for (long i = 0; i < n; ++i) {
    (void)pthread_mutex_lock(m);
    pthread_mutex_unlock(m);
  }
}

static _Alignas(64) pthread_mutex_t bench_mutex;

static int time_main(int argc, char **argv) {
  if (argc != 3) return usage();
  enum variant v = parse_variant(argv[0]);
  double min_time = atof(argv[1]);
  int reps = atoi(argv[2]);
  if (v == v_none || min_time <= 0 || reps <= 0) return usage();
  start_idle_thread();
  init_mutex(&bench_mutex, v, 0);
  if (pthread_mutex_lock(&bench_mutex) != 0) die("pthread_mutex_lock", EINVAL);
  pthread_mutex_unlock(&bench_mutex);
  for (int r = 0; r < reps; ++r) {
    /* Google Benchmark's rule: multiply the iterations by up to 10 (1.4 times
     * what the last batch suggests) until a batch lasts min_time. */
    long n = 1;
    for (;;) {
      double t0 = now_s();
      pairs(&bench_mutex, n);
      double t = now_s() - t0;
      if (t >= min_time || n >= 1000000000L) {
        printf("uncontended %s %.4f %ld\n", argv[0], t * 1e9 / (double)n, n);
        fflush(stdout);
        break;
      }
      double multiplier = t <= 0 ? 10 : min_time * 1.4 / t;
      if (multiplier > 10) multiplier = 10;
      long next = (long)((double)n * multiplier);
      n = next > n ? next : n + 1;
    }
  }
  pthread_mutex_destroy(&bench_mutex);
  stop_idle_thread();
  return 0;
}

static int count_main(int argc, char **argv) {
  if (argc != 2) return usage();
  enum variant v = parse_variant(argv[0]);
  long n = atol(argv[1]);
  if (v == v_none || n < 0) return usage();
  start_idle_thread();
  init_mutex(&bench_mutex, v, 0);
  pairs(&bench_mutex, n);
  pthread_mutex_destroy(&bench_mutex);
  stop_idle_thread();
  return 0;
}

/* ---- contended: as bench/contended.cpp ---- */

#define MAX_WORKERS 8

struct arena {
  _Alignas(64) pthread_mutex_t lock;
  _Alignas(64) uint64_t counter;
  _Alignas(64) atomic_int ready;
  _Alignas(64) atomic_bool go;
  _Alignas(64) atomic_bool stop;
  _Alignas(64) uint64_t ops[MAX_WORKERS];
  atomic_ullong failures;
};

struct worker_arg {
  struct arena *a;
  int index;
};

static void work(struct arena *a, int index) {
  atomic_fetch_add_explicit(&a->ready, 1, memory_order_relaxed);
  while (!atomic_load_explicit(&a->go, memory_order_acquire)) sched_yield();
  uint64_t ops = 0, failures = 0;
  while (!atomic_load_explicit(&a->stop, memory_order_relaxed)) {
    if (pthread_mutex_lock(&a->lock) != 0) ++failures;
    ++a->counter;
    pthread_mutex_unlock(&a->lock);
    ++ops;
  }
  a->ops[index] = ops;
  if (failures != 0) atomic_fetch_add(&a->failures, failures);
}

static void *worker_main(void *p) {
  struct worker_arg *w = p;
  work(w->a, w->index);
  return NULL;
}

static struct arena *shared_arena(void) {
  int fd = memfd_create("rfutex-bench", MFD_CLOEXEC);
  if (fd < 0) die("memfd_create", errno);
  if (ftruncate(fd, (off_t)sizeof(struct arena)) != 0) die("ftruncate", errno);
  void *p = mmap(NULL, sizeof(struct arena), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap", errno);
  close(fd);
  return p; /* zero-filled */
}

static void sleep_us(long us) {
  struct timespec t = {us / 1000000, (us % 1000000) * 1000L};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

static int contended_main(int argc, char **argv) {
  if (argc < 3) return usage();
  int processes;
  const char *count;
  if (strncmp(argv[0], "processes", 9) == 0) {
    processes = 1;
    count = argv[0] + 9;
  } else if (strncmp(argv[0], "threads", 7) == 0) {
    processes = 0;
    count = argv[0] + 7;
  } else {
    return usage();
  }
  const int workers = *count == '\0' ? 2 : atoi(count);
  if (workers < 2 || workers > MAX_WORKERS) return usage();
  long ms = atol(argv[1]);
  if (ms <= 0) return usage();
  int status = 0;
  for (int k = 2; k < argc; ++k) {
    enum variant v = parse_variant(argv[k]);
    if (v == v_none) return usage();
    struct arena *a = shared_arena();
    init_mutex(&a->lock, v, processes);
    pthread_t threads[MAX_WORKERS];
    struct worker_arg args[MAX_WORKERS];
    pid_t children[MAX_WORKERS];
    for (int i = 0; i < workers; ++i) {
      args[i].a = a;
      args[i].index = i;
      if (processes) {
        children[i] = fork();
        if (children[i] < 0) die("fork", errno);
        if (children[i] == 0) {
          work(a, i);
          _exit(0);
        }
      } else {
        int r = pthread_create(&threads[i], NULL, worker_main, &args[i]);
        if (r != 0) die("pthread_create", r);
      }
    }
    while (atomic_load_explicit(&a->ready, memory_order_relaxed) < workers) sleep_us(100);
    double start = now_s();
    atomic_store_explicit(&a->go, 1, memory_order_release);
    sleep_us(ms * 1000);
    atomic_store_explicit(&a->stop, 1, memory_order_relaxed);
    double elapsed = now_s() - start;
    int children_ok = 1;
    for (int i = 0; i < workers; ++i) {
      if (processes) {
        int st = 0;
        if (waitpid(children[i], &st, 0) != children[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
          children_ok = 0;
      } else {
        pthread_join(threads[i], NULL);
      }
    }
    uint64_t ops = 0;
    for (int i = 0; i < workers; ++i) ops += a->ops[i];
    if (!children_ok || atomic_load(&a->failures) != 0 || a->counter != ops) {
      fprintf(stderr, "%s: %s %s: counter %llu != %llu operations\n", program, argv[k], argv[0],
              (unsigned long long)a->counter, (unsigned long long)ops);
      status = 1;
    } else {
      printf("contended %s %s %.1f %llu\n", argv[0], argv[k], (double)ops / elapsed,
             (unsigned long long)ops);
      fflush(stdout);
    }
    pthread_mutex_destroy(&a->lock);
    munmap(a, sizeof(struct arena));
  }
  return status;
}

static int info_main(void) {
#ifdef __GLIBC__
  printf("libc glibc %s\n", gnu_get_libc_version());
#else
  printf("libc musl %s\n", RFUTEX_MUSL_VERSION);
#endif
  return 0;
}

int main(int argc, char **argv) {
#ifndef __GLIBC__
  program = "rfutex-bench-musl";
#endif
  if (argc < 2) return usage();
  const char *mode = argv[1];
  if (strcmp(mode, "time") == 0) return time_main(argc - 2, argv + 2);
  if (strcmp(mode, "count") == 0) return count_main(argc - 2, argv + 2);
  if (strcmp(mode, "contended") == 0) return contended_main(argc - 2, argv + 2);
  if (strcmp(mode, "info") == 0) return info_main();
  return usage();
}
