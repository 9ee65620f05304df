# keygate_warnings: the project's warning set (INTERFACE, linked PRIVATE by every own target).
# keygate_sanitize: -fsanitize=$KEYGATE_SANITIZE for every own target when set.
add_library(keygate_warnings INTERFACE)
target_compile_options(keygate_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                                  -Wno-sign-conversion
                                                  # GCC 12 false positives at -O2 in libstdc++ string code
                                                  -Wno-array-bounds -Wno-stringop-overflow -Wno-restrict
                                                  # GCC 12 false positive on Asio coroutine frames
                                                  -Wno-mismatched-new-delete)
if(KEYGATE_WERROR)
  target_compile_options(keygate_warnings INTERFACE -Werror)
endif()

add_library(keygate_sanitize INTERFACE)
if(KEYGATE_SANITIZE)
  target_compile_options(keygate_sanitize INTERFACE -fsanitize=${KEYGATE_SANITIZE} -fno-omit-frame-pointer)
  target_link_options(keygate_sanitize INTERFACE -fsanitize=${KEYGATE_SANITIZE})
endif()
