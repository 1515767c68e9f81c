# SPDX-License-Identifier: MIT
# Test registration shared by every test folder.
#
#   rfutex_add_gtest(<target> SOURCES <file>... [STRATEGIES <s>...] [LIBS <lib>...]
#                    [TIMEOUT <seconds>] [VM_MANIFEST cross])
#
# Builds one GoogleTest binary and registers its tests with CTest once per
# unlock strategy: each run sets RFUTEX_UNLOCK=<s> and prefixes the test names
# with "<s>/". By default: guarded, hybrid and kernel (where the kernel lacks
# one, its tests skip and say why: on 6.18 only guarded runs; Linux 7.2 on x86
# runs all three). The strategy "any" registers the tests once, without the
# variable (for tests that do not depend on the unlock path). A
# value-parameterised test names its instances (INSTANTIATE_TEST_SUITE_P's
# name generator): CTest's names are those, without the value's bytes.
#
# Each test gets a CTest TIMEOUT of RFUTEX_TEST_TIMEOUT seconds (25 by
# default): a test that hangs on a regression (a lost wake-up, a lock never
# released) fails within that bound. No test of the suite takes much over
# 5 s on an idle machine, in the sanitizer builds either (docs/testing.md). A
# binary whose tests need longer may pass TIMEOUT, saying why next to it.
# Tests that can block also bound themselves (alarm()), usually well below
# this.
#
# Every (strategy, binary) pair is also appended to the VM manifest
# ${CMAKE_BINARY_DIR}/vm-tests.txt (written by rfutex_write_vm_manifest()),
# one line each:  <strategy> <binary path relative to the build tree>
# The VM runner packs these binaries and runs each line inside the guest.
# VM_MANIFEST cross puts them in vm-cross-tests.txt instead: tests that need
# the build trees of both widths in the guest (tests/vm/run --with).
include(GoogleTest)

set(RFUTEX_TEST_TIMEOUT 25 CACHE STRING "CTest TIMEOUT (seconds) of each rfutex test")

function(rfutex_add_gtest target)
  cmake_parse_arguments(ARG "" "TIMEOUT;VM_MANIFEST" "SOURCES;STRATEGIES;LIBS" ${ARGN})
  set(manifest_property RFUTEX_VM_TESTS)
  if(ARG_VM_MANIFEST STREQUAL "cross")
    set(manifest_property RFUTEX_VM_CROSS_TESTS)
  elseif(ARG_VM_MANIFEST)
    message(FATAL_ERROR "rfutex_add_gtest: VM_MANIFEST must be cross")
  endif()
  if(NOT ARG_STRATEGIES)
    set(ARG_STRATEGIES guarded hybrid kernel)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT ${RFUTEX_TEST_TIMEOUT})
  endif()
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE rfutex_test_support ${ARG_LIBS} rfutex_warnings)
  target_precompile_headers(${target} REUSE_FROM rfutex_test_support)
  foreach(strategy IN LISTS ARG_STRATEGIES)
    if(NOT CMAKE_CROSSCOMPILING)
      if(strategy STREQUAL "any")
        gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 30 NO_PRETTY_VALUES
                             PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS host)
      else()
        gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 30 NO_PRETTY_VALUES
                             TEST_PREFIX "${strategy}/"
                             PROPERTIES ENVIRONMENT "RFUTEX_UNLOCK=${strategy}"
                                        TIMEOUT ${ARG_TIMEOUT} LABELS host)
      endif()
    endif()
    set_property(GLOBAL APPEND PROPERTY ${manifest_property}
                 "${strategy} $<PATH:RELATIVE_PATH,$<TARGET_FILE:${target}>,${CMAKE_BINARY_DIR}>")
  endforeach()
endfunction()

# rfutex_add_vm_file(<target>): the VM runner packs this program too (a
# helper a test execs, not a test itself): ${CMAKE_BINARY_DIR}/vm-files.txt.
function(rfutex_add_vm_file target)
  set_property(GLOBAL APPEND PROPERTY RFUTEX_VM_FILES
               "$<PATH:RELATIVE_PATH,$<TARGET_FILE:${target}>,${CMAKE_BINARY_DIR}>")
endfunction()

function(rfutex_write_vm_manifest)
  get_property(files GLOBAL PROPERTY RFUTEX_VM_FILES)
  list(JOIN files "\n" content)
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/vm-files.txt CONTENT "${content}\n")
  get_property(lines GLOBAL PROPERTY RFUTEX_VM_TESTS)
  list(JOIN lines "\n" content)
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/vm-tests.txt CONTENT "${content}\n")
  get_property(lines GLOBAL PROPERTY RFUTEX_VM_CROSS_TESTS)
  list(JOIN lines "\n" content)
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/vm-cross-tests.txt CONTENT "${content}\n")
endfunction()
