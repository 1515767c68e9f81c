# SPDX-License-Identifier: MIT
# Installs the build tree into a scratch prefix, then builds and runs a C++
# consumer (examples/) and a C-only consumer (examples/c_consumer) against
# it, through find_package(rfutex) and through pkg-config rfutex.pc, linked
# with the static and with the shared library, and a program linked with
# the guard target rfutex::guard. One step per run, so that each is a test
# with a bound of its own (tests/CMakeLists.txt):
#   cmake -DBUILD=... -DSOURCE=... -DWORK=... -DSTEP=<step> -P install_test.cmake
# STEP: prefix (the install, which the others need), find_package_cxx,
# find_package_c, pkg_config.
cmake_minimum_required(VERSION 3.25)  # STEP STREQUAL "prefix" compares strings (CMP0054)
# run(): a step that must succeed. The steps that build have no bound of
# their own (the test's TIMEOUT covers them: compile time depends on load);
# the example program runs in a tenth of a second, so its runs are cut at
# 10 s (RUN_TIMEOUT): a library regression that hangs it fails fast.
set(RUN_TIMEOUT)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out
                  ${RUN_TIMEOUT})
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
  message(STATUS "${out}")
  set(run_output "${out}" PARENT_SCOPE)
endfunction()
# needs(<binary> <soname> yes|no): whether <binary> loads <soname> at run time.
function(needs binary soname expected)
  run(readelf -d ${binary})
  string(FIND "${run_output}" "[${soname}]" at)
  if((expected AND at EQUAL -1) OR (NOT expected AND NOT at EQUAL -1))
    message(FATAL_ERROR "${binary}: NEEDED ${soname} expected ${expected}\n${run_output}")
  endif()
endfunction()

set(prefix ${WORK}/prefix)
if(STEP STREQUAL "prefix")
  file(REMOVE_RECURSE ${WORK})
  run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${prefix})
  foreach(file lib/librfutex.a lib/librfutex.so.0 lib/librfutex-guard.so.0 lib/pkgconfig/rfutex.pc
               lib/cmake/rfutex/rfutexConfig.cmake include/rfutex/rfutex.h)
    if(NOT EXISTS ${prefix}/${file})
      message(FATAL_ERROR "not installed: ${file}")
    endif()
  endforeach()
  return()
endif()
if(NOT EXISTS ${prefix}/lib/cmake/rfutex/rfutexConfig.cmake)
  message(FATAL_ERROR "nothing installed in ${prefix}: run the step `prefix` first")
endif()

if(STEP STREQUAL "find_package_cxx")
  run(${CMAKE_COMMAND} -S ${SOURCE}/examples -B ${WORK}/cxx -DCMAKE_PREFIX_PATH=${prefix})
  run(${CMAKE_COMMAND} --build ${WORK}/cxx)
  set(RUN_TIMEOUT TIMEOUT 10)  # a consumer that hangs fails fast
  foreach(program crash_safe_counter crash_safe_counter_shared crash_safe_counter_guarded)
    run(${WORK}/cxx/${program})
  endforeach()
  set(RUN_TIMEOUT)
  needs(${WORK}/cxx/crash_safe_counter librfutex.so.0 NO)
  needs(${WORK}/cxx/crash_safe_counter_shared librfutex.so.0 YES)
  needs(${WORK}/cxx/crash_safe_counter_guarded librfutex-guard.so.0 YES)

elseif(STEP STREQUAL "find_package_c")
  run(${CMAKE_COMMAND} -S ${SOURCE}/examples/c_consumer -B ${WORK}/c -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_C_FLAGS=-Wall\ -Werror)
  run(${CMAKE_COMMAND} --build ${WORK}/c)
  set(RUN_TIMEOUT TIMEOUT 10)
  run(${WORK}/c/c_consumer_static)
  run(${WORK}/c/c_consumer_shared)
  set(RUN_TIMEOUT)
  needs(${WORK}/c/c_consumer_static librfutex.so.0 NO)
  needs(${WORK}/c/c_consumer_shared librfutex.so.0 YES)

elseif(STEP STREQUAL "pkg_config")
  # Cflags are for C and C++ alike (no -std=); the static link takes
  # librfutex.a by name and the C++ runtime from Libs.private.
  set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
  run(pkg-config --cflags rfutex)
  if(run_output MATCHES "-std=")
    message(FATAL_ERROR "rfutex.pc Cflags name a language standard: ${run_output}")
  endif()
  set(pc "pkg-config --cflags --libs rfutex")
  set(pc_static "pkg-config --cflags --static --libs rfutex | sed 's/-lrfutex\\b/-l:librfutex.a/'")
  set(rpath "-Wl,-rpath,${prefix}/lib")
  set(cxx "c++ -std=c++20 ${SOURCE}/examples/crash_safe_counter.cpp")
  set(c "cc -Wall -Werror ${SOURCE}/examples/c_consumer/c_consumer.c")
  run(sh -c "${cxx} $(${pc}) ${rpath} -o ${WORK}/pc_cxx_shared")
  run(sh -c "${cxx} $(${pc_static}) -o ${WORK}/pc_cxx_static")
  run(sh -c "${c} $(${pc}) ${rpath} -o ${WORK}/pc_c_shared")
  run(sh -c "${c} $(${pc_static}) -o ${WORK}/pc_c_static")
  set(RUN_TIMEOUT TIMEOUT 10)
  foreach(program pc_cxx_shared pc_cxx_static pc_c_shared pc_c_static)
    run(${WORK}/${program})
  endforeach()
  set(RUN_TIMEOUT)
  needs(${WORK}/pc_cxx_shared librfutex.so.0 YES)
  needs(${WORK}/pc_c_shared librfutex.so.0 YES)
  needs(${WORK}/pc_cxx_static librfutex.so.0 NO)
  needs(${WORK}/pc_c_static librfutex.so.0 NO)

else()
  message(FATAL_ERROR "STEP must be prefix, find_package_cxx, find_package_c or pkg_config, not '${STEP}'")
endif()
