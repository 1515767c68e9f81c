// SPDX-License-Identifier: MIT
#include "thread_registry.hpp"

#include <pthread.h>
#include <sys/mman.h>

#include <cstring>

#include "../linux/memory_map.hpp"

namespace rfutex::guard {

namespace {

// Threads up to this many need no allocation at all.
constexpr std::size_t inline_capacity = 128;

// heads[0, count): the registered threads' robust-list heads, what a scrub
// reads. slot_of[i]: &tls_slot of the thread in entry i, so that when the last
// entry moves into a freed place its thread learns its new index.
sys::robust_list_head* inline_heads[inline_capacity];
std::size_t* inline_slot_of[inline_capacity];

// What a scrub reads besides the array and the heads, in one cache line: a
// scrub right after a munmap finds it cold.
struct alignas(64) registry_state {
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  sys::robust_list_head** heads = inline_heads;
  std::size_t count = 0;
};
registry_state registry;
pthread_mutex_t& registry_lock = registry.lock;
sys::robust_list_head**& heads = registry.heads;
std::size_t& count = registry.count;
std::size_t** slot_of = inline_slot_of;
std::size_t capacity = inline_capacity;

// 1 + this thread's index in heads, or 0 while it is not registered. Read and
// written only under registry_lock (by this thread, or by one that moves it).
__thread std::size_t tls_slot __attribute__((tls_model("initial-exec")));

pthread_key_t exit_key;
pthread_once_t init_once_flag = PTHREAD_ONCE_INIT;

// Doubles the arrays, in one anonymous mapping made by raw syscall: neither
// malloc nor the guard's own interposed mmap is entered.
bool grow_locked() {
  const std::size_t new_capacity = capacity * 2;
  void* p = sys::raw_mmap(nullptr, new_capacity * (sizeof *heads + sizeof *slot_of),
                          PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  auto* new_heads = static_cast<sys::robust_list_head**>(p);
  auto* new_slot_of = reinterpret_cast<std::size_t**>(new_heads + new_capacity);
  std::memcpy(new_heads, heads, count * sizeof *heads);
  std::memcpy(new_slot_of, slot_of, count * sizeof *slot_of);
  if (heads != inline_heads) (void)sys::raw_munmap(heads, capacity * (sizeof *heads + sizeof *slot_of));
  heads = new_heads;
  slot_of = new_slot_of;
  capacity = new_capacity;
  return true;
}

bool add_locked(sys::robust_list_head* head) {
  if (count == capacity && !grow_locked()) return false;
  heads[count] = head;
  slot_of[count] = &tls_slot;
  tls_slot = ++count;
  return true;
}

// The last entry takes the leaving thread's place: the array stays dense.
void remove_locked() {
  if (tls_slot == 0) return;
  const std::size_t i = tls_slot - 1, last = count - 1;
  heads[i] = heads[last];
  slot_of[i] = slot_of[last];
  *slot_of[i] = i + 1;
  --count;
  tls_slot = 0;
}

// Thread exit (a TSD destructor runs before glibc frees the thread's
// descriptor, where its robust-list head lives).
void leave_at_exit(void*) {
  pthread_mutex_lock(&registry_lock);
  remove_locked();
  pthread_mutex_unlock(&registry_lock);
}

// fork: hold the lock across it so the child never inherits it mid-change.
// The child has one thread, the one that forked. glibc has registered that
// thread's robust list again (the same head, in its descriptor) before the
// atfork child handlers run, so the child's registry is exactly that thread,
// from the first instruction the program runs in the child.
void before_fork() { pthread_mutex_lock(&registry_lock); }
void after_fork_parent() { pthread_mutex_unlock(&registry_lock); }
void after_fork_child() {
  pthread_mutex_init(&registry_lock, nullptr);
  count = 0;
  tls_slot = 0;
  sys::robust_list_head* head = nullptr;
  std::size_t len = 0;
  // A thread with rfutex's own head has none in the child (the kernel gives
  // a fork child no robust list); it registers on its next use of rfutex.
  if (sys::get_robust_list(0, &head, &len) == 0 && head != nullptr && add_locked(head))
    pthread_setspecific(exit_key, &tls_slot);
}

void init_once() {
  pthread_key_create(&exit_key, leave_at_exit);
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

}  // namespace

bool register_current_thread(sys::robust_list_head* head) noexcept {
  pthread_once(&init_once_flag, init_once);
  pthread_mutex_lock(&registry_lock);
  bool registered = true;
  if (tls_slot != 0)
    heads[tls_slot - 1] = head;
  else
    registered = add_locked(head);
  pthread_mutex_unlock(&registry_lock);
  // Any non-null value makes the destructor run at thread exit.
  if (registered) pthread_setspecific(exit_key, &tls_slot);
  return registered;
}

std::size_t registered_count() noexcept {
  pthread_mutex_lock(&registry_lock);
  const std::size_t c = count;
  pthread_mutex_unlock(&registry_lock);
  return c;
}

registered_heads lock_registry() noexcept {
  pthread_mutex_lock(&registry_lock);
  return {heads, count};
}

void unlock_registry() noexcept { pthread_mutex_unlock(&registry_lock); }

}  // namespace rfutex::guard
