# Installs the build tree into a scratch prefix, then builds examples/ against
# it twice — through find_package(rfutex) and through pkg-config rfutex.pc —
# and runs the example. Run by CTest: cmake -DBUILD=... -DSOURCE=... -DWORK=... -P
file(REMOVE_RECURSE ${WORK})
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
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE}/examples -B ${WORK}/cmake -DCMAKE_PREFIX_PATH=${WORK}/prefix)
run(${CMAKE_COMMAND} --build ${WORK}/cmake)
set(RUN_TIMEOUT TIMEOUT 10)
run(${WORK}/cmake/crash_safe_counter)
set(RUN_TIMEOUT)
run(sh -c "PKG_CONFIG_PATH=${WORK}/prefix/lib/pkgconfig c++ ${SOURCE}/examples/crash_safe_counter.cpp $(PKG_CONFIG_PATH=${WORK}/prefix/lib/pkgconfig pkg-config --cflags --libs rfutex) -o ${WORK}/pc_counter")
set(RUN_TIMEOUT TIMEOUT 10)
run(${WORK}/pc_counter)
