# SPDX-License-Identifier: MIT
# Compares the dynamic symbols librfutex.so defines with the list kept in
# the repository, so the exported ABI changes only on purpose. On a change:
#   nm -D --defined-only -C build/dev/src/librfutex.so | cut -d' ' -f3- | LC_ALL=C sort > tests/abi/librfutex.symbols
# Run by CTest: cmake -DLIBRARY=... -DEXPECTED=... -DNM=... -P exported_symbols.cmake
execute_process(COMMAND ${NM} -D --defined-only -C ${LIBRARY}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} failed (${rc}): ${err}")
endif()
# "<address> <type> <name>" -> "<name>", sorted bytewise.
string(REGEX REPLACE "[0-9a-f]+ [A-Za-z] ([^\n]*)" "\\1" out "${out}")
string(REGEX REPLACE "\n$" "" out "${out}")
string(REPLACE ";" "\\;" out "${out}")
string(REPLACE "\n" ";" actual "${out}")
list(SORT actual)
file(STRINGS ${EXPECTED} expected)
list(SORT expected)
set(extra ${actual})
list(REMOVE_ITEM extra ${expected})
set(missing ${expected})
list(REMOVE_ITEM missing ${actual})
list(LENGTH actual n)
if(extra OR missing)
  list(JOIN extra "\n  " extra)
  list(JOIN missing "\n  " missing)
  message(FATAL_ERROR "librfutex.so exports differ from ${EXPECTED}\n"
                      "exported but not listed:\n  ${extra}\nlisted but not exported:\n  ${missing}")
endif()
message(STATUS "librfutex.so exports the ${n} listed symbols")
