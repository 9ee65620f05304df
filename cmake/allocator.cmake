# The malloc the keygate binary runs on (KEYGATE_MALLOC):
#   tcmalloc  gperftools' tcmalloc_minimal (Debian: libtcmalloc-minimal4), the default. A proxied
#             request frees and allocates a few blocks (coroutine frames Asio cannot recycle,
#             I/O buffers, hashing contexts); glibc's free() consolidates chunks and costs ~0.3 µs
#             per request more (docs/benchmarks.md, "Allocator").
#   system    glibc's malloc. Always used with sanitizers, which bring their own allocator.
# Linked into the `keygate` executable only (tests and tools keep glibc), so the binary that is
# measured and deployed is the one the integration tests run.
set(KEYGATE_MALLOC "tcmalloc" CACHE STRING "Allocator of the keygate binary: tcmalloc or system")
set_property(CACHE KEYGATE_MALLOC PROPERTY STRINGS tcmalloc system)

set(keygate_malloc ${KEYGATE_MALLOC})
if(KEYGATE_SANITIZE AND keygate_malloc STREQUAL "tcmalloc")
  message(STATUS "keygate: sanitizers replace malloc; KEYGATE_MALLOC=system for this build")
  set(keygate_malloc system)
endif()

if(keygate_malloc STREQUAL "tcmalloc")
  # The runtime package ships only the versioned file; the -dev package (with its libunwind
  # dependency) is not needed to link it.
  find_library(KEYGATE_TCMALLOC_LIBRARY NAMES tcmalloc_minimal libtcmalloc_minimal.so.4)
  if(NOT KEYGATE_TCMALLOC_LIBRARY)
    message(FATAL_ERROR "KEYGATE_MALLOC=tcmalloc: libtcmalloc_minimal not found; install "
                        "libtcmalloc-minimal4 (scripts/install-deps.sh) or configure with "
                        "-DKEYGATE_MALLOC=system")
  endif()
elseif(NOT keygate_malloc STREQUAL "system")
  message(FATAL_ERROR "KEYGATE_MALLOC must be tcmalloc or system, not '${KEYGATE_MALLOC}'")
endif()
set(KEYGATE_MALLOC_IN_USE ${keygate_malloc})

# Links the chosen allocator into `target` (an executable). Listed before the C library, so its
# malloc, free and operator new replace glibc's for the whole process.
function(keygate_link_allocator target)
  if(KEYGATE_MALLOC_IN_USE STREQUAL "tcmalloc")
    target_link_libraries(${target} PRIVATE ${KEYGATE_TCMALLOC_LIBRARY})
  endif()
endfunction()
