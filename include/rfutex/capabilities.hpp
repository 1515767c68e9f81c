// SPDX-License-Identifier: MIT
// A report of what the running kernel and this thread offer robust locks:
// what `rfutex info` prints.
#pragma once

#include <sys/types.h>

#include <string>

#include "rfutex/strategy.hpp"

namespace rfutex {

struct kernel_capabilities {
  std::string kernel_release;  // uname -r
  std::string kernel_machine;  // uname -m
  const void* vdso_base = nullptr;
  // The Linux 7.2 vDSO functions; nullptr where the vDSO lacks them.
  const void* vdso_try_unlock64 = nullptr;
  const void* vdso_try_unlock32 = nullptr;
  bool robust_unlock_flag = false;  // futex(FUTEX_WAKE | FUTEX_ROBUST_UNLOCK) works
  int robust_unlock_errno = 0;      // what it answered otherwise (ENOSYS before 7.2)
  unlock_strategy best_strategy = unlock_strategy::guarded;
};

// Probed once per process.
const kernel_capabilities& capabilities();

// Who registered a thread's robust-list head with set_robust_list().
enum class list_registrar : unsigned char { none, glibc, musl, rfutex, unknown };
std::string_view to_string(list_registrar r) noexcept;

struct robust_list_report {
  const void* head = nullptr;  // nullptr: the thread has no registered list
  std::size_t head_len = 0;
  long futex_offset = 0;
  list_registrar registrar = list_registrar::none;
  bool supported = false;  // rfutex can link its locks into this list
  pid_t tid = 0;
};

// The calling thread's robust list, as rfutex sees and uses it. Calling this
// is a first use: where the thread had no head, rfutex registers its own.
robust_list_report current_robust_list();

}  // namespace rfutex
