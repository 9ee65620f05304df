# keygate_malloc: the malloc the keygate binary runs on (INTERFACE, like keygate_sanitize; linked
# by the `keygate` executable only, so the binary the integration tests drive is the one that is
# measured and deployed). KEYGATE_MALLOC:
#   tcmalloc  gperftools' tcmalloc_minimal (Debian: libtcmalloc-minimal4), the default. A proxied
#             request frees and allocates a few blocks (coroutine frames Asio cannot recycle,
#             I/O buffers, hashing contexts); on glibc's malloc that cost 0.3-0.9 µs per request
#             more (docs/benchmarks.md, "Gateway vs peers": the allocator).
#   system    glibc's malloc. Always used with sanitizers, which bring their own allocator.
# KEYGATE_MALLOC_IN_USE: what this build links (tests compare the binary's own answer to it).
set(KEYGATE_MALLOC "tcmalloc" CACHE STRING "Allocator of the keygate binary: tcmalloc or system")
set_property(CACHE KEYGATE_MALLOC PROPERTY STRINGS tcmalloc system)
if(NOT KEYGATE_MALLOC MATCHES "^(tcmalloc|system)$")
  message(FATAL_ERROR "KEYGATE_MALLOC must be tcmalloc or system, not '${KEYGATE_MALLOC}'")
endif()

set(KEYGATE_MALLOC_IN_USE ${KEYGATE_MALLOC})
if(KEYGATE_SANITIZE AND KEYGATE_MALLOC_IN_USE STREQUAL "tcmalloc")
  message(STATUS "keygate: sanitizers replace malloc; KEYGATE_MALLOC=system for this build")
  set(KEYGATE_MALLOC_IN_USE system)
endif()

add_library(keygate_malloc INTERFACE)
if(KEYGATE_MALLOC_IN_USE STREQUAL "tcmalloc")
  # The runtime package ships only the versioned file; the -dev package (with its libunwind
  # dependency) is not needed to link it.
  find_library(KEYGATE_TCMALLOC_LIBRARY NAMES tcmalloc_minimal libtcmalloc_minimal.so.4)
  if(NOT KEYGATE_TCMALLOC_LIBRARY)
    message(FATAL_ERROR "KEYGATE_MALLOC=tcmalloc: libtcmalloc_minimal not found; install "
                        "libtcmalloc-minimal4 (scripts/install-deps.sh) or configure with "
                        "-DKEYGATE_MALLOC=system")
  endif()
  # A dependency of the executable, so it is loaded before the C library: its malloc, free and
  # operator new replace glibc's for the whole process.
  target_link_libraries(keygate_malloc INTERFACE ${KEYGATE_TCMALLOC_LIBRARY})
endif()
