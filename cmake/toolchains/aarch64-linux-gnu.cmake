# SPDX-License-Identifier: MIT
# 64-bit Arm (arm64) build with Debian's cross compiler g++-aarch64-linux-gnu.
# Its static binaries run inside Debian's arm64 kernel under
# qemu-system-aarch64 (tests/vm/run --arch arm64).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# No GoogleTest package for the target: build it from Debian's sources.
set(RFUTEX_GTEST_FROM_SOURCE ON CACHE BOOL "" FORCE)
