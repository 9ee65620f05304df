#include "keygate/core/malloc_info.hpp"

#include <dlfcn.h>
#include <gnu/libc-version.h>

namespace keygate::core {

std::string malloc_name() {
  // gperftools exports tc_version() from every tcmalloc flavour; looked up in the global scope,
  // it is found only when tcmalloc is loaded into the process (and then its malloc is the one
  // in use: it is linked or preloaded ahead of the C library).
  using tc_version_fn = const char* (*)(int*, int*, const char**);
  if (auto* fn = reinterpret_cast<tc_version_fn>(dlsym(RTLD_DEFAULT, "tc_version"))) {
    int major = 0, minor = 0;
    const char* patch = nullptr;
    const char* version = fn(&major, &minor, &patch);
    return std::string("tcmalloc (") + (version ? version : "unknown version") + ")";
  }
  return std::string("glibc ") + gnu_get_libc_version();
}

}  // namespace keygate::core
