# SPDX-License-Identifier: MIT
# CTest bench.smoke: `rfutex bench --quick --json` runs every driver and its
# JSON names every variant the report promises.
#   cmake -DRFUTEX=<path to rfutex> -P smoke_test.cmake
cmake_minimum_required(VERSION 3.25)
if(NOT RFUTEX)
  message(FATAL_ERROR "pass -DRFUTEX=<path to the rfutex binary>")
endif()

execute_process(COMMAND ${RFUTEX} bench --quick --json
                OUTPUT_VARIABLE json ERROR_VARIABLE log RESULT_VARIABLE status TIMEOUT 80)
message("${log}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "rfutex bench --quick --json exited with ${status}")
endif()

string(JSON kernel ERROR_VARIABLE error GET "${json}" kernel)
if(error)
  message(FATAL_ERROR "not a JSON object with \"kernel\": ${error}\n${json}")
endif()
string(JSON strategy GET "${json}" strategy)
message(STATUS "kernel ${kernel}, strategy ${strategy}")

# name -> whether the entry must carry a number (absent variants carry null).
function(check_array array required)
  string(JSON n LENGTH "${json}" ${array})
  set(found "")
  math(EXPR last "${n} - 1")
  foreach(i RANGE ${last})
    string(JSON name GET "${json}" ${array} ${i} name)
    list(APPEND found ${name})
  endforeach()
  foreach(name IN LISTS required)
    if(NOT name IN_LIST found)
      message(FATAL_ERROR "${array}: no entry named ${name} (found: ${found})")
    endif()
  endforeach()
endfunction()

check_array(uncontended "glibc_default;glibc_robust;glibc_robust_pshared;glibc_robust_pi;musl_robust;rfutex_robust;rfutex_robust_pi;floor;pthread_rwlock_read;rfutex_shared_read;pthread_rwlock_write;rfutex_shared_write")
check_array(contended "glibc_default;glibc_robust;glibc_robust_pshared;glibc_robust_pi;musl_robust;rfutex_robust;rfutex_robust_pi;pthread_rwlock_read;rfutex_shared_read")

# Every measured uncontended entry has the fields the report promises; the ones
# rfutex measures itself must have numbers.
string(JSON n LENGTH "${json}" uncontended)
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
  string(JSON name GET "${json}" uncontended ${i} name)
  foreach(field median_ns min_ns max_ns ratio_to_glibc_default instructions)
    string(JSON type ERROR_VARIABLE error TYPE "${json}" uncontended ${i} ${field})
    if(error)
      message(FATAL_ERROR "uncontended ${name}: no field ${field}")
    endif()
    if(name MATCHES "^(glibc_default|glibc_robust|rfutex_robust|floor|pthread_rwlock_read|rfutex_shared_read|pthread_rwlock_write|rfutex_shared_write)$"
       AND field MATCHES "_ns$|^ratio" AND NOT type STREQUAL "NUMBER")
      message(FATAL_ERROR "uncontended ${name}: ${field} is ${type}, expected a number")
    endif()
  endforeach()
endforeach()

string(JSON n LENGTH "${json}" munmap_guard)
set(threads "")
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
  string(JSON t GET "${json}" munmap_guard ${i} threads)
  foreach(field plain_ns guarded_ns overhead_ns)
    string(JSON type TYPE "${json}" munmap_guard ${i} ${field})
    if(NOT type STREQUAL "NUMBER")
      message(FATAL_ERROR "munmap_guard ${t} threads: ${field} is ${type}")
    endif()
  endforeach()
  list(APPEND threads ${t})
endforeach()
foreach(t 2 8 64)
  if(NOT t IN_LIST threads)
    message(FATAL_ERROR "munmap_guard: no entry for ${t} threads (found: ${threads})")
  endif()
endforeach()
message(STATUS "bench JSON complete")
