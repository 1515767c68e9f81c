// SPDX-License-Identifier: MIT
// The name of one instance of a value-parameterised model test: a
// configuration's description with every character GoogleTest does not
// allow in a test name (all but letters, digits and '_') made '_'.
#pragma once

#include <cctype>
#include <string>

namespace rfutex::model {

inline std::string param_name(std::string description) {
  for (char& c : description)
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
  return description;
}

}  // namespace rfutex::model
