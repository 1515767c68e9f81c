// SPDX-License-Identifier: MIT
// Chooses the unlock strategy once per process and answers the public
// capability report.
#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

#include "../linux/capabilities.hpp"
#include "rfutex/capabilities.hpp"
#include "rfutex/strategy.hpp"

namespace rfutex {

namespace {

struct strategy_choice {
  unlock_strategy strategy = unlock_strategy::guarded;
  int error = 0;  // errno to throw on every use when the choice failed
  std::string message;
};

bool kernel_can(unlock_strategy s) noexcept {
  const auto& p = sys::probe();
  switch (s) {
    case unlock_strategy::kernel: return p.try_unlock != nullptr && p.robust_unlock_flag();
    case unlock_strategy::hybrid: return p.robust_unlock_flag();
    case unlock_strategy::guarded: return true;
  }
  return false;
}

strategy_choice choose() {
  const char* env = std::getenv("RFUTEX_UNLOCK");
  const std::string asked = env != nullptr ? env : "auto";
  if (asked.empty() || asked == "auto") return {best_unlock_strategy(), 0, {}};
  for (const auto s : {unlock_strategy::kernel, unlock_strategy::hybrid, unlock_strategy::guarded}) {
    if (asked != to_string(s)) continue;
    if (kernel_can(s)) return {s, 0, {}};
    return {s, ENOSYS,
            "RFUTEX_UNLOCK=" + asked + ": this kernel (" + sys::probe().release +
                ") lacks what that strategy needs (vDSO try-unlock: " +
                (sys::probe().try_unlock != nullptr ? "yes" : "no") +
                ", FUTEX_ROBUST_UNLOCK: " + (sys::probe().robust_unlock_flag() ? "yes" : "no") +
                "); `rfutex info` shows what it offers"};
  }
  return {unlock_strategy::guarded, EINVAL,
          "RFUTEX_UNLOCK=" + asked + ": expected one of auto, kernel, hybrid, guarded"};
}

}  // namespace

std::string_view to_string(unlock_strategy s) noexcept {
  switch (s) {
    case unlock_strategy::kernel: return "kernel";
    case unlock_strategy::hybrid: return "hybrid";
    case unlock_strategy::guarded: return "guarded";
  }
  return "guarded";
}

unlock_strategy best_unlock_strategy() noexcept {
  if (kernel_can(unlock_strategy::kernel)) return unlock_strategy::kernel;
  if (kernel_can(unlock_strategy::hybrid)) return unlock_strategy::hybrid;
  return unlock_strategy::guarded;
}

unlock_strategy active_unlock_strategy() {
  static const strategy_choice choice = choose();
  if (choice.error != 0)
    throw std::system_error(choice.error, std::generic_category(), choice.message);
  return choice.strategy;
}

const kernel_capabilities& capabilities() {
  static const kernel_capabilities caps = [] {
    const auto& p = sys::probe();
    kernel_capabilities c;
    c.kernel_release = p.release;
    c.kernel_machine = p.machine;
    c.vdso_base = p.vdso.base;
    c.vdso_try_unlock64 = p.try_unlock64;
    c.vdso_try_unlock32 = p.try_unlock32;
    c.robust_unlock_flag = p.robust_unlock_flag();
    c.robust_unlock_errno = p.robust_unlock_errno;
    c.best_strategy = best_unlock_strategy();
    return c;
  }();
  return caps;
}

}  // namespace rfutex
