# SPDX-License-Identifier: MIT
# find_package(rfutex) and pkg-config rfutex.
#   rfutex::rfutex  librfutex.a       (C++ runtime in its link interface for C programs)
#   rfutex::shared  librfutex.so.0    (exports only the public API)
#   rfutex::guard   librfutex-guard.so.0
include(CMakePackageConfigHelpers)

set(rfutex_installed_libraries rfutex)
if(TARGET rfutex_shared)
  list(APPEND rfutex_installed_libraries rfutex_shared)
endif()
install(TARGETS ${rfutex_installed_libraries} EXPORT rfutexTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                NAMELINK_COMPONENT development)
install(DIRECTORY include/rfutex DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)
install(EXPORT rfutexTargets NAMESPACE rfutex::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rfutex COMPONENT development)

configure_package_config_file(cmake/rfutexConfig.cmake.in
  ${PROJECT_BINARY_DIR}/rfutexConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rfutex)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rfutexConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/rfutexConfig.cmake ${PROJECT_BINARY_DIR}/rfutexConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rfutex COMPONENT development)

# rfutex.pc names its prefix relative to its own directory (relocatable,
# whatever depth CMAKE_INSTALL_LIBDIR has, e.g. lib/x86_64-linux-gnu).
file(RELATIVE_PATH rfutex_pc_to_prefix
     /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" rfutex_pc_to_prefix "${rfutex_pc_to_prefix}")
configure_file(cmake/rfutex.pc.in ${PROJECT_BINARY_DIR}/rfutex.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/rfutex.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT development)
