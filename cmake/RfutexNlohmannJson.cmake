# SPDX-License-Identifier: MIT
# nlohmann-json (Debian: nlohmann-json3-dev), for the tools' JSON output.
# Header-only and the same for every architecture, so cross builds take it
# from the build machine too — through a directory that holds nothing else,
# so the build machine's other headers never shadow the target's.
find_path(RFUTEX_NLOHMANN_JSON_DIR nlohmann/json.hpp PATHS /usr/include NO_CMAKE_FIND_ROOT_PATH)
if(NOT RFUTEX_NLOHMANN_JSON_DIR)
  message(FATAL_ERROR "nlohmann/json.hpp not found (Debian: apt-get install nlohmann-json3-dev)")
endif()
set(rfutex_json_include ${CMAKE_BINARY_DIR}/third_party/include)
file(MAKE_DIRECTORY ${rfutex_json_include})
file(CREATE_LINK ${RFUTEX_NLOHMANN_JSON_DIR}/nlohmann ${rfutex_json_include}/nlohmann SYMBOLIC)
add_library(rfutex_nlohmann_json INTERFACE)
target_include_directories(rfutex_nlohmann_json SYSTEM INTERFACE ${rfutex_json_include})
