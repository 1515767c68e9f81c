# Installs the build tree into a scratch prefix, then builds examples/ against
# it twice — through find_package(rfutex) and through pkg-config rfutex.pc —
# and runs the example. Run by CTest: cmake -DBUILD=... -DSOURCE=... -DWORK=... -P
file(REMOVE_RECURSE ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
  message(STATUS "${out}")
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE}/examples -B ${WORK}/cmake -DCMAKE_PREFIX_PATH=${WORK}/prefix)
run(${CMAKE_COMMAND} --build ${WORK}/cmake)
run(${WORK}/cmake/crash_safe_counter)
run(sh -c "PKG_CONFIG_PATH=${WORK}/prefix/lib/pkgconfig c++ ${SOURCE}/examples/crash_safe_counter.cpp $(PKG_CONFIG_PATH=${WORK}/prefix/lib/pkgconfig pkg-config --cflags --libs rfutex) -o ${WORK}/pc_counter")
run(${WORK}/pc_counter)
