# find_package(rfutex) and pkg-config rfutex.
include(CMakePackageConfigHelpers)

install(TARGETS rfutex EXPORT rfutexTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/rfutex DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT rfutexTargets NAMESPACE rfutex::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rfutex)

configure_package_config_file(cmake/rfutexConfig.cmake.in
  ${PROJECT_BINARY_DIR}/rfutexConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rfutex)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rfutexConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/rfutexConfig.cmake ${PROJECT_BINARY_DIR}/rfutexConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rfutex)

configure_file(cmake/rfutex.pc.in ${PROJECT_BINARY_DIR}/rfutex.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/rfutex.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
