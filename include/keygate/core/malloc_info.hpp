// keygate::core::malloc_name — which malloc this process actually runs on, found at run time
// (not from build flags), so `keygate version` and the start-up log tell the truth even when
// the library was not linked as intended or another one was preloaded.
#pragma once

#include <string>

namespace keygate::core {

// "tcmalloc (gperftools 2.10)" when gperftools' tcmalloc serves malloc, else
// "glibc <version>".
std::string malloc_name();

}  // namespace keygate::core
