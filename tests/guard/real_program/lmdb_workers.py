"""LMDB writers in forked processes, SIGKILLed while they write, under
LD_PRELOAD=librfutex-guard.so (run by run-lmdb-workers).

Each round forks workers (os.fork and multiprocessing's fork start method,
and one daemon()-style double fork); each worker runs writer threads that
commit small transactions into one LMDB environment shared by all, whose
lock file holds LMDB's robust process-shared mutexes. Every worker checks that
the guard's registry in its process holds exactly its threads (through
rfutex_guard_registered_threads(), which the guard exports), then reports
every key after its commit returned; the parent SIGKILLs the workers in the
middle of their writing. At the end every reported key must be there with its
value, and the environment must still take writes.
"""
import ctypes
import multiprocessing
import os
import signal
import sys
import threading

import lmdb

THREADS_PER_WORKER = 2
COMMITS_BEFORE_KILL = 30
ROUNDS = 4
MAP_SIZE = 64 << 20

guard = ctypes.CDLL(None)
registered_threads = guard.rfutex_guard_registered_threads  # AttributeError: guard not loaded
registered_threads.restype = ctypes.c_size_t
registered_threads.argtypes = []


def registry_line():
    """What the guard knows against what the kernel says this process runs."""
    return "registry %d %d %d\n" % (os.getpid(), registered_threads(),
                                    len(os.listdir("/proc/self/task")))


def value_of(key):
    return b"value-of-" + key


def worker(path, report_fd):
    env = lmdb.open(path, map_size=MAP_SIZE, max_readers=256)
    started = threading.Barrier(THREADS_PER_WORKER + 1)

    def write(index):
        started.wait()
        n = 0
        while True:
            key = b"%d-%d-%d" % (os.getpid(), index, n)
            with env.begin(write=True) as txn:
                txn.put(key, value_of(key))
            os.write(report_fd, b"key " + key + b"\n")  # after the commit returned
            n += 1

    threads = [threading.Thread(target=write, args=(i,), daemon=True)
               for i in range(THREADS_PER_WORKER)]
    for t in threads:
        t.start()
    os.write(report_fd, registry_line().encode())
    started.wait()
    for t in threads:
        t.join()


def start_worker(how, path):
    """Returns (pid, read end of its report pipe)."""
    r, w = os.pipe()
    if how == "os.fork":
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                worker(path, w)
            finally:
                os._exit(1)
    elif how == "multiprocessing":
        p = multiprocessing.get_context("fork").Process(target=worker, args=(path, w))
        p.start()
        pid = p.pid
    else:  # daemon(): fork, setsid, fork again; the middle process exits
        pid_r, pid_w = os.pipe()
        middle = os.fork()
        if middle == 0:
            os.setsid()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                try:
                    worker(path, w)
                finally:
                    os._exit(1)
            os.write(pid_w, b"%d\n" % pid)
            os._exit(0)
        os.waitpid(middle, 0)
        pid = int(os.read(pid_r, 64))
        os.close(pid_r)
        os.close(pid_w)
    os.close(w)
    return pid, os.fdopen(r, "rb")


def wait_gone(pid):
    """Reaps a child, or waits for a daemon's grandchild to be gone."""
    try:
        os.waitpid(pid, 0)
        return
    except ChildProcessError:
        pass
    fd = os.pidfd_open(pid)
    import select
    select.select([fd], [], [], 10)
    os.close(fd)


def main(path):
    failures = []
    signal.alarm(20)  # a hang fails fast: the run takes about 2 s
    line = registry_line().split()
    if line[2] != line[3]:
        failures.append("parent: the guard knows %s threads of %s" % (line[2], line[3]))
    acknowledged = set()
    registries = 0
    for round_ in range(ROUNDS):
        workers = [start_worker(how, path) for how in ("os.fork", "multiprocessing", "daemon")]
        for pid, reports in workers:
            commits = 0
            while commits < COMMITS_BEFORE_KILL:
                report = reports.readline()
                if not report:
                    failures.append("worker %d ended before %d commits" % (pid, COMMITS_BEFORE_KILL))
                    break
                if report.startswith(b"key "):
                    acknowledged.add(report[4:].strip())
                    commits += 1
                elif report.startswith(b"registry "):
                    _, who, known, threads = report.split()
                    registries += 1
                    if known != threads or int(threads) != THREADS_PER_WORKER + 1:
                        failures.append("worker %s: the guard knows %s of its %s threads"
                                        % (who.decode(), known.decode(), threads.decode()))
        for pid, _ in workers:  # all of them still writing
            os.kill(pid, signal.SIGKILL)
        for pid, reports in workers:
            wait_gone(pid)
            for report in reports:  # what was reported before the kill
                if report.startswith(b"key "):
                    acknowledged.add(report[4:].strip())
            reports.close()
        print("round %d: %d keys acknowledged so far" % (round_, len(acknowledged)))

    if registries != 3 * ROUNDS:
        failures.append("%d of %d workers reported their registry" % (registries, 3 * ROUNDS))
    env = lmdb.open(path, map_size=MAP_SIZE, max_readers=256)
    print("stale readers cleared:", env.reader_check())
    with env.begin() as txn:
        missing = [k for k in acknowledged if txn.get(k) != value_of(k)]
    if missing:
        failures.append("%d acknowledged keys lost or wrong, e.g. %r" % (len(missing), missing[:3]))
    with env.begin(write=True) as txn:  # the write lock still works
        txn.put(b"after-the-kills", b"ok")
    with env.begin() as txn:
        if txn.get(b"after-the-kills") != b"ok":
            failures.append("the environment took no write after the kills")
    print("entries:", env.stat()["entries"], "acknowledged:", len(acknowledged))
    for f in failures:
        print("FAIL:", f)
    return 1 if failures or not acknowledged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
