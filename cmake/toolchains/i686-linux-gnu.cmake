# SPDX-License-Identifier: MIT
# 32-bit (i386) build with Debian's cross compiler g++-i686-linux-gnu.
# Its binaries run as compat processes inside the 7.2 VM (the host kernel
# has 32-bit emulation disabled).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER i686-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER i686-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/i686-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# No GoogleTest package for the target: build it from Debian's sources.
set(RFUTEX_GTEST_FROM_SOURCE ON CACHE BOOL "" FORCE)
