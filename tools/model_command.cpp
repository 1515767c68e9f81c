// SPDX-License-Identifier: MIT
// rfutex model — command-line front end of the model (src/model/):
// parses the options, runs the exhaustive check, prints the report.
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "commands.hpp"
#include "model/model.hpp"
#include "model/report.hpp"

namespace rfutex::tool {
namespace {

constexpr const char* help_text =
    R"(usage: rfutex model --protocol {glibc|vdso|guarded|guarded-v1|hybrid}
                    --arch {x86_64|i386|arm64}
                    [--no-fixup] [--entry-notes-user-irq {yes|no}]
                    [--decider {correct|naive}] [--remap {libc|raw}]
                    [--pending-wake {no-waiters|owner-zero}] [--sleepers {1|2}]
                    [--json]

Explores two small worlds exhaustively. The unmap world: every interleaving
of one robust unlock with interrupts, signals (fatal, handled and returning,
handled and crashing), kills, and another thread that takes the released lock
and maps an unrelated file over its page (whose word holds the unlocker's
TID). The wake-up world: the unlocker of a contended lock, one or two
sleepers in FUTEX_WAIT, and a thread that may take the lock through the fast
path at any point; the unlocker killed at every step of its release, a woken
sleeper at every step after its wake-up. Checks four properties:
  no foreign write  exit processing never writes to memory that is not a live
                    robust futex of the dying thread
  no lost lock      a thread dying while it owns the lock leaves OWNER_DIED
  pending cleared   once the lock is released, the thread is never killed or
                    diverted into a signal handler while list_op_pending points
                    at memory that is no longer the lock
  no lost wake-up   no run ends with a living thread asleep in FUTEX_WAIT
                    that nothing is left to wake
and prints a shortest counterexample for each one violated.

  --protocol glibc       set pending, unlink, xchg release, wake one, clear pending
             vdso        7.2's vDSO try-unlock (arm64: the LL/SC sequence of a
                         port); contended FUTEX_WAKE|FUTEX_ROBUST_UNLOCK, wake one
                         (rfutex's kernel strategy)
             guarded     rfutex without the fix: CAS tid -> 0, or FUTEX_WAKE_OP
                         (kernel stores 0, wakes all); unmap guard
             guarded-v1  rfutex's earlier guarded release: xchg, clear pending,
                         then FUTEX_WAKE one; unmap guard
             hybrid      CAS tid -> 0 (unmap guard), else as vdso's contended path
  --arch               x86_64, i386 (32-bit/compat: 4-byte pending slot,
                       pop_size32 range), arm64 (the unmap world only)
  --no-fixup           a kernel without futex_fixup_robust_unlock()
  --entry-notes-user-irq {yes|no}
                       whether interrupt/exception entry from user mode sets
                       rseq's user_irq (7.2: yes on x86, no on arm64)
  --decider correct    x86: ZF ? dx : NULL; arm64: pc == cs_success, or
                       pc == cs_start and w3 == 0
            naive      pc == cs_success only
  --remap libc         the other thread remaps through the libc (the guard
                       of the guarded protocols sees it)
          raw          through a raw syscall (no guard sees it)
  --pending-wake no-waiters
                       a dying thread's pending op on a word it does not own
                       wakes one waiter when the owner part is 0 or
                       FUTEX_WAITERS is clear (7.2; 6.1.183+, 6.12.104+)
                 owner-zero
                       only when the owner part is 0 (earlier kernels)
  --sleepers {1|2}     threads asleep at the start of the wake-up world (2)
  --json               one JSON object instead of the report

Defaults: the real Linux 7.2 behaviour of the chosen arch (fix-up on, the
arch's entry model, correct decider, libc remaps, no-waiters), 2 sleepers.

Exit status: 0 all properties hold, 1 a violation was found, 2 bad arguments,
3 internal error of the model (a bug; message on stderr).
)";

int bad(const std::string& message) {
  std::fprintf(stderr, "rfutex model: %s\nTry 'rfutex model --help'.\n", message.c_str());
  return 2;
}

}  // namespace

int model_command(args a) {
  std::optional<model::protocol> proto;
  std::optional<model::arch> machine;
  model::options o;
  bool json = false;
  bool seen_fixup = false, seen_irq = false, seen_decider = false, seen_remap = false;
  bool seen_wake = false, seen_sleepers = false;

  for (std::size_t i = 0; i < a.size(); ++i) {
    std::string_view opt = a[i];
    std::optional<std::string_view> value;
    if (const auto eq = opt.find('='); opt.starts_with("--") && eq != std::string_view::npos) {
      value = opt.substr(eq + 1);
      opt = opt.substr(0, eq);
    }
    // The option's value: after '=' or the next argument.
    auto take = [&]() -> std::optional<std::string_view> {
      if (value) return value;
      if (i + 1 < a.size()) return std::string_view(a[++i]);
      return std::nullopt;
    };
    auto once = [&](bool& seen) {
      const bool first = !seen;
      seen = true;
      return first;
    };
    const std::string name(opt);

    if (opt == "-h" || opt == "--help") {
      std::fputs(help_text, stdout);
      return 0;
    } else if (opt == "--json" && !value) {
      json = true;
    } else if (opt == "--no-fixup" && !value) {
      if (!once(seen_fixup)) return bad(name + " given twice");
      o.fixup = false;
    } else if (opt == "--protocol") {
      if (proto) return bad(name + " given twice");
      const auto v = take();
      if (!v) return bad(name + " needs a value: glibc, vdso, guarded, guarded-v1 or hybrid");
      proto = model::parse_protocol(*v);
      if (!proto)
        return bad("unknown protocol '" + std::string(*v) +
                   "' (glibc, vdso, guarded, guarded-v1, hybrid)");
    } else if (opt == "--arch") {
      if (machine) return bad(name + " given twice");
      const auto v = take();
      if (!v) return bad(name + " needs a value: x86_64, i386 or arm64");
      machine = model::parse_arch(*v);
      if (!machine) return bad("unknown arch '" + std::string(*v) + "' (x86_64, i386, arm64)");
    } else if (opt == "--entry-notes-user-irq") {
      if (!once(seen_irq)) return bad(name + " given twice");
      const auto v = take();
      if (v && *v == "yes")
        o.entry_notes_user_irq = true;
      else if (v && *v == "no")
        o.entry_notes_user_irq = false;
      else
        return bad(name + " needs yes or no");
    } else if (opt == "--decider") {
      if (!once(seen_decider)) return bad(name + " given twice");
      const auto v = take();
      const auto d = v ? model::parse_decider(*v) : std::nullopt;
      if (!d) return bad(name + " needs correct or naive");
      o.decide = *d;
    } else if (opt == "--remap") {
      if (!once(seen_remap)) return bad(name + " given twice");
      const auto v = take();
      const auto r = v ? model::parse_remap(*v) : std::nullopt;
      if (!r) return bad(name + " needs libc or raw");
      o.remapping = *r;
    } else if (opt == "--pending-wake") {
      if (!once(seen_wake)) return bad(name + " given twice");
      const auto v = take();
      const auto w = v ? model::parse_pending_wake(*v) : std::nullopt;
      if (!w) return bad(name + " needs no-waiters or owner-zero");
      o.wake_rule = *w;
    } else if (opt == "--sleepers") {
      if (!once(seen_sleepers)) return bad(name + " given twice");
      const auto v = take();
      if (v && *v == "1")
        o.sleepers = 1;
      else if (v && *v == "2")
        o.sleepers = 2;
      else
        return bad(name + " needs 1 or 2");
    } else {
      return bad("unknown argument '" + std::string(a[i]) + "'");
    }
  }
  if (!proto) return bad("--protocol is required");
  if (!machine) return bad("--arch is required");
  o.proto = *proto;
  o.machine = *machine;

  model::result r;
  try {
    r = model::check(o);
  } catch (const std::logic_error& e) {
    // Not "1": scripts read 1 as "violation found".
    std::fprintf(stderr, "rfutex model: internal error: %s\n", e.what());
    return 3;
  }
  const std::string out = json ? model::format_json(r) : model::format_text(r);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return r.all_hold() ? 0 : 1;
}

}  // namespace rfutex::tool
