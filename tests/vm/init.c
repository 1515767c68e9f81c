// SPDX-License-Identifier: MIT
// init.c — the whole user space of the rfutex test VM.
//
// Built statically for the kernel's architecture (x86_64 or arm64) by
// tests/vm/run and packed as /init of the initramfs. It mounts the pseudo
// file systems, runs every line of the test manifest (/vm/manifest,
// "<strategy> <binary relative to its tree>") with a per-binary timeout,
// reports through markers on the console and powers off. 32-bit test
// binaries are run by the same 64-bit init (IA32 emulation).
//
// A manifest line "@suite <name> <tree>" starts a suite: the following
// binaries are relative to <tree> (their working directory), and the tree's
// tools/rfutex reports the strategy. Without one, the tree is /b. Every line
// "NAME=VALUE" of /vm/env is set in each binary's environment.
//
// Console markers (parsed by tests/vm/summarize):
//   @@KERNEL <release> <machine> cpus=<n>
//   @@SUITE <name>                        a new suite; the markers below follow
//   @@INFO-BEGIN / @@INFO-END <status>   output of `tools/rfutex info --json`
//   @@RUN <strategy> <binary>
//   @@EXIT <code> ms=<t> | @@SIGNAL <n> <name> ms=<t> | @@TIMEOUT <s> ms=<t>
//   @@EXECFAIL <binary> <error>                       (followed by @@EXIT 127)
//   @@TAINTED <mask>                      kernel taint flags after the tests
//   ALLDONE tests=<lines run> fails=<lines that did not exit 0>
//
// Not running as PID 1 (a quick check on the host): `init <root>` runs
// <root>/vm/manifest against <root>/b without mounting or powering off.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int is_pid1;
static char root[4096] = "/";
static char bindir[4400];

static void say(const char* fmt, ...) {
  char buf[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
  // One write per marker line, so it is not interleaved with other output.
  for (const char* p = buf; n > 0;) {
    ssize_t w = write(1, p, (size_t)n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    p += w;
    n -= (int)w;
  }
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void mount_or_say(const char* src, const char* dst, const char* type,
                         unsigned long flags, const char* data) {
  mkdir(dst, 0755);
  if (mount(src, dst, type, flags, data) != 0 && errno != EBUSY)
    say("@@WARN mount %s on %s: %s\n", type, dst, strerror(errno));
}

static void setup_system(void) {
  mount_or_say("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_or_say("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_or_say("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");

  // The kernel gives init /dev/console as fds 0-2 only when the initramfs
  // has that node; open it ourselves when it did not.
  if (fcntl(1, F_GETFD) < 0) {
    int fd = open("/dev/console", O_RDWR | O_NOCTTY);
    if (fd < 0) fd = open("/dev/ttyS0", O_RDWR | O_NOCTTY);
    if (fd >= 0) {
      dup2(fd, 0);
      dup2(fd, 1);
      dup2(fd, 2);
      if (fd > 2) close(fd);
    }
  }

  mount_or_say("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  mount_or_say("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666");
  mount_or_say("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  mount_or_say("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  symlink("/proc/self/fd", "/dev/fd");
  symlink("/proc/self/fd/0", "/dev/stdin");
  symlink("/proc/self/fd/1", "/dev/stdout");
  symlink("/proc/self/fd/2", "/dev/stderr");

  // Loopback up, for tests that talk over sockets.
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s >= 0) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
      ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
      ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    close(s);
  }
  sethostname("rfutex-vm", 9);
}

// The lines of /vm/env, set for every test binary.
static char extra_env[16][512];
static int extra_envs;

static void read_env_file(void) {
  char path[4200];
  snprintf(path, sizeof path, "%s/vm/env", root);
  FILE* f = fopen(path, "r");
  if (!f) return;
  while (extra_envs < 16 && fgets(extra_env[extra_envs], sizeof extra_env[0], f)) {
    char* line = extra_env[extra_envs];
    line[strcspn(line, "\n")] = 0;
    if (strchr(line, '=') != NULL) extra_envs++;
  }
  fclose(f);
}

static void set_env(const char* strategy) {
  clearenv();
  for (int i = 0; i < extra_envs; i++) putenv(extra_env[i]);
  setenv("PATH", "/b/tools:/usr/bin:/bin", 1);
  setenv("HOME", "/tmp", 1);
  setenv("TMPDIR", "/tmp", 1);
  setenv("LANG", "C", 1);
  setenv("GTEST_COLOR", "no", 1);  // the console is a tty; keep the log plain
  setenv("RFUTEX_VM", "1", 1);
  if (strategy) setenv("RFUTEX_UNLOCK", strategy, 1);
}

// Reap every exited child; returns 1 and stores the status if `pid` was one.
static int reap(pid_t pid, int* status) {
  int found = 0, st;
  pid_t p;
  while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
    if (p == pid) {
      *status = st;
      found = 1;
    }
  }
  return found;
}

// Runs argv[0] (relative to bindir) in its own process group. Returns its
// wait status, or -1 on timeout (the group is killed). *ms gets the run time.
static int run_one(char* const argv[], const char* strategy, int timeout_s, long long* ms) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  long long start = now_ms();
  pid_t pid = fork();
  if (pid < 0) {
    say("@@WARN fork: %s\n", strerror(errno));
    *ms = 0;
    return 127 << 8;
  }
  if (pid == 0) {
    setpgid(0, 0);
    sigprocmask(SIG_UNBLOCK, &chld, NULL);
    struct rlimit nocore = {0, 0};
    setrlimit(RLIMIT_CORE, &nocore);
    if (chdir(bindir) != 0) _exit(126);
    set_env(strategy);
    execv(argv[0], argv);
    say("@@EXECFAIL %s %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid);
  long long deadline = start + (long long)timeout_s * 1000;
  int status = 0;
  for (;;) {
    if (reap(pid, &status)) break;
    long long left = deadline - now_ms();
    if (left <= 0) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      reap(-2, &status);
      *ms = now_ms() - start;
      return -1;
    }
    if (left > 1000) left = 1000;
    struct timespec ts = {left / 1000, (left % 1000) * 1000000};
    sigtimedwait(&chld, NULL, &ts);
  }
  *ms = now_ms() - start;
  kill(-pid, SIGKILL);  // leftovers of the test's own process group
  int dummy;
  reap(-2, &dummy);
  return status;
}

static void run_info(int timeout_s) {
  char path[4500];
  snprintf(path, sizeof path, "%s/tools/rfutex", bindir);
  if (access(path, X_OK) != 0) {
    say("@@INFO-MISSING tools/rfutex\n");
    return;
  }
  char* argv[] = {"tools/rfutex", "info", "--json", NULL};
  say("@@INFO-BEGIN\n");
  long long ms;
  int st = run_one(argv, NULL, timeout_s, &ms);
  // A newline first: the JSON may not end with one.
  if (st == -1)
    say("\n@@INFO-END timeout\n");
  else if (WIFSIGNALED(st))
    say("\n@@INFO-END signal=%d\n", WTERMSIG(st));
  else
    say("\n@@INFO-END %d\n", WEXITSTATUS(st));
}

static int read_timeout(void) {
  char path[4200];
  snprintf(path, sizeof path, "%s/vm/timeout", root);
  FILE* f = fopen(path, "r");
  int t = 0;
  if (f) {
    if (fscanf(f, "%d", &t) != 1) t = 0;
    fclose(f);
  }
  return t > 0 ? t : 120;
}

static void finish(void) {
  sync();
  if (is_pid1) {
    reboot(RB_POWER_OFF);
    say("@@WARN poweroff: %s\n", strerror(errno));
    for (;;) pause();
  }
}

int main(int argc, char** argv) {
  is_pid1 = getpid() == 1;
  if (!is_pid1 && argc > 1) snprintf(root, sizeof root, "%s", argv[1]);
  if (is_pid1) setup_system();
  snprintf(bindir, sizeof bindir, "%s/b", strcmp(root, "/") == 0 ? "" : root);

  // SIGCHLD stays blocked in init and is waited for with sigtimedwait().
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);

  struct utsname u;
  uname(&u);
  say("\n@@KERNEL %s %s cpus=%ld\n", u.release, u.machine, sysconf(_SC_NPROCESSORS_ONLN));

  int timeout_s = read_timeout();
  read_env_file();

  char mpath[4200];
  snprintf(mpath, sizeof mpath, "%s/vm/manifest", root);
  FILE* m = fopen(mpath, "r");
  if (!m) {
    say("@@WARN no manifest %s: %s\n", mpath, strerror(errno));
    say("ALLDONE tests=0 fails=1\n");
    finish();
    return 1;
  }
  int tests = 0, fails = 0, info_done = 0;
  char line[4096];
  while (fgets(line, sizeof line, m)) {
    char strategy[64], bin[4000], tree[256];
    if (strncmp(line, "@suite ", 7) == 0) {
      char name[256];
      if (sscanf(line + 7, "%255s %255s", name, tree) != 2) {
        say("@@BADLINE %s", line);
        fails++;
        continue;
      }
      snprintf(bindir, sizeof bindir, "%s%s", strcmp(root, "/") == 0 ? "" : root, tree);
      say("@@SUITE %s\n", name);
      run_info(timeout_s < 60 ? timeout_s : 60);
      info_done = 1;
      continue;
    }
    if (sscanf(line, "%63s %3999s", strategy, bin) != 2) continue;  // blank line
    if (strategy[0] == '#') continue;
    if (!info_done) {
      run_info(timeout_s < 60 ? timeout_s : 60);
      info_done = 1;
    }
    const char* env = strategy;
    if (strcmp(strategy, "any") == 0)
      env = NULL;
    else if (strcmp(strategy, "guarded") != 0 && strcmp(strategy, "hybrid") != 0 &&
             strcmp(strategy, "kernel") != 0) {
      say("@@BADLINE %s", line);
      fails++;
      continue;
    }
    tests++;
    say("@@RUN %s %s\n", strategy, bin);
    char* args[] = {bin, NULL};
    long long ms;
    int st = run_one(args, env, timeout_s, &ms);
    if (st == -1) {
      say("\n@@TIMEOUT %d ms=%lld\n", timeout_s, ms);
      fails++;
    } else if (WIFSIGNALED(st)) {
      say("\n@@SIGNAL %d %s ms=%lld\n", WTERMSIG(st), strsignal(WTERMSIG(st)), ms);
      fails++;
    } else {
      say("\n@@EXIT %d ms=%lld\n", WEXITSTATUS(st), ms);
      if (WEXITSTATUS(st) != 0) fails++;
    }
  }
  fclose(m);

  if (is_pid1) {
    FILE* t = fopen("/proc/sys/kernel/tainted", "r");
    long taint = 0;
    if (t) {
      if (fscanf(t, "%ld", &taint) != 1) taint = 0;
      fclose(t);
    }
    if (taint) say("@@TAINTED %ld\n", taint);
  }
  say("ALLDONE tests=%d fails=%d\n", tests, fails);
  finish();
  return fails != 0;
}
