#include "thread_registry.hpp"

#include <pthread.h>

#include <mutex>

namespace rfutex::guard {

namespace {

pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
registry_node* first = nullptr;
std::size_t count = 0;

__thread registry_node tls_node __attribute__((tls_model("initial-exec")));

pthread_key_t exit_key;

void unlink_locked(registry_node& n) {
  if (!n.registered) return;
  if (n.prev != nullptr) n.prev->next = n.next; else first = n.next;
  if (n.next != nullptr) n.next->prev = n.prev;
  n.next = n.prev = nullptr;
  n.registered = false;
  --count;
}

// Thread exit (a TSD destructor runs before glibc frees the thread's
// descriptor, where its robust-list head lives).
void leave_at_exit(void*) {
  pthread_mutex_lock(&registry_lock);
  unlink_locked(tls_node);
  pthread_mutex_unlock(&registry_lock);
}

// fork: hold the lock across it so the child never inherits it mid-change;
// the child has one thread, the forking one, which re-registers on its next
// use of rfutex.
void before_fork() { pthread_mutex_lock(&registry_lock); }
void after_fork_parent() { pthread_mutex_unlock(&registry_lock); }
void after_fork_child() {
  first = nullptr;
  count = 0;
  tls_node = registry_node{};
  pthread_mutex_init(&registry_lock, nullptr);
}

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_key_create(&exit_key, leave_at_exit);
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
  });
}

}  // namespace

void register_current_thread(sys::robust_list_head* head) noexcept {
  init_once();
  registry_node& n = tls_node;
  pthread_mutex_lock(&registry_lock);
  n.head = head;
  if (!n.registered) {
    n.prev = nullptr;
    n.next = first;
    if (first != nullptr) first->prev = &n;
    first = &n;
    n.registered = true;
    ++count;
  }
  pthread_mutex_unlock(&registry_lock);
  // Any non-null value makes the destructor run at thread exit.
  pthread_setspecific(exit_key, &n);
}

std::size_t registered_count() noexcept {
  pthread_mutex_lock(&registry_lock);
  const std::size_t c = count;
  pthread_mutex_unlock(&registry_lock);
  return c;
}

void lock_registry() noexcept { pthread_mutex_lock(&registry_lock); }
void unlock_registry() noexcept { pthread_mutex_unlock(&registry_lock); }
registry_node* registry_first() noexcept { return first; }

}  // namespace rfutex::guard
