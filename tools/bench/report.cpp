// SPDX-License-Identifier: MIT
#include "report.hpp"

#include <string_view>

namespace rfutex::tool::bench {

const std::vector<double>& samples_or_empty(const std::map<std::string, std::vector<double>>& m,
                                            const std::string& name) {
  static const std::vector<double> none;
  const auto it = m.find(name);
  return it == m.end() ? none : it->second;
}

std::optional<double> instructions_of(const results& r, const std::string& name) {
  const auto it = r.instructions.find(name);
  if (it == r.instructions.end()) return std::nullopt;
  return it->second;
}

std::string reason_missing(const results& r, const variant& v, const drivers& d) {
  if (v.from == source::native && r.native_variants.count(v.driver_name) == 0)
    return std::string("absent: rfutex-bench-native was built without it") +
           (std::string_view(v.name) == "rfutex_robust_pi"
                ? " (no rfutex/robust_pi_mutex.hpp: rfutex has no PI lock yet)"
                : "");
  if (v.from == source::musl && d.musl.empty())
    return "skipped: the musl driver was not built (musl-gcc missing; run " + d.setup_hint +
           ", then configure and build again)";
  return "no result (a driver failed)";
}

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string fmt_opt(const std::optional<double>& v, int decimals, const char* unit) {
  return v ? fmt(*v, decimals) + unit : "—";
}

}  // namespace rfutex::tool::bench
