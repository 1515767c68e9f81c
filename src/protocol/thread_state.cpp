// SPDX-License-Identifier: MIT
#include "thread_state.hpp"

#include <pthread.h>

#include <cerrno>
#include <mutex>
#include <system_error>

#include "../guard/thread_registry.hpp"
#include "../linux/capabilities.hpp"
#include "lock_layout.hpp"

namespace rfutex::protocol {

__thread thread_state tls_thread_state __attribute__((tls_model("initial-exec")));

namespace {

// rfutex's own head, for threads that have none. It lives in static TLS, so
// it exists until the thread is gone: the kernel walks it during the exit,
// after every TLS destructor has run.
struct own_list_head {
  std::uintptr_t prev_slot;  // the head's prev slot, like glibc's robust_prev
  sys::robust_list_head head;
};
__thread own_list_head tls_own_head __attribute__((tls_model("initial-exec")));

// fork() gives the child a new TID and, from the kernel, no registered list;
// glibc registers a fresh one. Forget what we cached and look again.
void forget_thread_state_in_child() { tls_thread_state.tid = 0; }

void install_fork_handler() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(nullptr, nullptr, forget_thread_state_in_child); });
}

sys::robust_list_head* registered_head() {
  sys::robust_list_head* head = nullptr;
  std::size_t len = 0;
  if (sys::get_robust_list(0, &head, &len) != 0) return nullptr;
  return head;
}

#if !defined(__GLIBC__)
// A libc that registers its head lazily (musl, on a thread's first robust
// pthread lock) would later replace a head of ours and orphan our locks.
// Take and drop one robust pthread mutex so that it registers now, and link
// into its head instead.
sys::robust_list_head* provoke_libc_head() {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_t m;
  pthread_mutex_init(&m, &attr);
  if (pthread_mutex_lock(&m) == 0) pthread_mutex_unlock(&m);
  pthread_mutex_destroy(&m);
  pthread_mutexattr_destroy(&attr);
  return registered_head();
}
#endif

sys::robust_list_head* register_own_head() {
  own_list_head& own = tls_own_head;
  // An empty list points at itself; the locks of a parent process (after
  // fork) are not ours, so start empty every time.
  own.head.list.next = &own.head.list;
  own.head.futex_offset = -own_node_offset;
  own.head.list_op_pending = nullptr;
  own.prev_slot = reinterpret_cast<std::uintptr_t>(&own.head);
  if (sys::set_robust_list(&own.head, sizeof(own.head)) != 0) return nullptr;
  return &own.head;
}

list_registrar identify(sys::robust_list_head* head) {
  if (head == nullptr) return list_registrar::none;
  if (head == &tls_own_head.head) return list_registrar::rfutex;
#if defined(__GLIBC__)
  // glibc keeps the head inside its thread descriptor (struct pthread),
  // which starts at pthread_self().
  const auto self = static_cast<std::uintptr_t>(pthread_self());
  const auto h = reinterpret_cast<std::uintptr_t>(head);
  if (h >= self && h < self + 4096) return list_registrar::glibc;
#else
  if (head->futex_offset == (pointer_size == 8 ? -28 : -12)) return list_registrar::musl;
#endif
  return list_registrar::unknown;
}

}  // namespace

list_host inspect_list(sys::robust_list_head* head) {
  list_host h;
  h.head = head;
  h.registrar = identify(head);
  if (head == nullptr) return h;
  h.node_offset = -head->futex_offset;
  switch (h.registrar) {
    case list_registrar::rfutex:
      h.doubly_linked = h.head_has_prev_slot = true;
      break;
    case list_registrar::glibc:
      // x86_64 glibc links robust mutexes both ways and keeps a prev slot
      // (robust_prev) below its head; i386 glibc links them one way only.
      h.doubly_linked = h.head_has_prev_slot = pointer_size == 8;
      break;
    case list_registrar::musl:
      h.doubly_linked = true;  // musl's head itself has no prev slot
      break;
    case list_registrar::none:
    case list_registrar::unknown:
      return h;  // unsupported: we cannot know how its owner unlinks
  }
  h.supported = node_fits(h.node_offset, h.doubly_linked);
  h.common_layout = h.supported && h.doubly_linked && h.head_has_prev_slot;
  return h;
}

void init_thread_state(thread_state& s) {
  install_fork_handler();
  const unlock_strategy strategy = active_unlock_strategy();  // throws if misconfigured

  sys::robust_list_head* head = registered_head();
#if !defined(__GLIBC__)
  if (head == nullptr) head = provoke_libc_head();
#endif
  if (head == nullptr) head = register_own_head();
  if (head == nullptr)
    throw std::system_error(ENOSYS, std::generic_category(),
                            "rfutex: set_robust_list failed; robust locks are unavailable");

  const list_host host = inspect_list(head);
  if (!host.supported)
    throw std::system_error(ENOTSUP, std::generic_category(),
                            "rfutex: this thread's robust list has a layout rfutex cannot "
                            "join (registrar unknown or futex_offset " +
                                std::to_string(head->futex_offset) + ")");
  s.strategy = strategy;
  s.try_unlock = strategy == unlock_strategy::kernel ? sys::probe().try_unlock : nullptr;
  s.host = host;
  guard::register_current_thread(head);  // so the unmap guard can scrub its pending slot
  s.tid = static_cast<std::uint32_t>(sys::gettid());  // last: marks `s` ready
}

}  // namespace rfutex::protocol

namespace rfutex {

robust_list_report current_robust_list() {
  const protocol::thread_state& s = protocol::current_thread();
  robust_list_report r;
  r.head = s.host.head;
  r.head_len = sizeof(sys::robust_list_head);
  r.futex_offset = -s.host.node_offset;
  r.registrar = s.host.registrar;
  r.supported = s.host.supported;
  r.tid = static_cast<pid_t>(s.tid);
  return r;
}

std::string_view to_string(list_registrar r) noexcept {
  switch (r) {
    case list_registrar::none: return "none";
    case list_registrar::glibc: return "glibc";
    case list_registrar::musl: return "musl";
    case list_registrar::rfutex: return "rfutex";
    case list_registrar::unknown: return "unknown";
  }
  return "unknown";
}

}  // namespace rfutex
