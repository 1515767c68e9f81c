# SPDX-License-Identifier: MIT
# One warning set for every target of the project.
add_library(rfutex_warnings INTERFACE)
target_compile_options(rfutex_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  $<$<BOOL:${RFUTEX_WERROR}>:-Werror>)

if(RFUTEX_STATIC)
  # The VM's initramfs holds nothing but our binaries: link everything in.
  add_link_options(-static)
endif()
