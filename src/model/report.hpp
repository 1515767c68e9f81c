// SPDX-License-Identifier: MIT
// Output of `rfutex model`: a report for people, one JSON object for
// machines. Both are pure functions of a result (the JSON's elapsed_ms aside,
// the same options give the same bytes).
#pragma once

#include <string>

#include "model.hpp"

namespace rfutex::model {

// The options, state count, time, one verdict line per property and, for
// each violated property, its shortest counterexample step by step.
std::string format_text(const result& r);

// {"protocol", "arch", "options", "states", "transitions", "elapsed_ms",
//  "liveness": {"states", "transitions", "elapsed_ms", "initial"} (the wake-up world),
//  "properties": {name: holds}, "all_hold", "counterexample_property",
//  "counterexample": [steps of the first violated property],
//  "counterexamples": {name: [steps]} for every violated property}
// A step: {"step", "actor", "at", "action", "effects": [...], "state"}.
// "initial" and the top-level counts are the unmap world's.
// One line, terminated by '\n'.
std::string format_json(const result& r);

}  // namespace rfutex::model
