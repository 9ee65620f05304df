#include "store_context.hpp"

#include <cstdio>
#include <iostream>

#include "keygate/config/loader.hpp"
#include "store_factory.hpp"

namespace keygate::cli {

std::unique_ptr<store_context> open_store(const std::string& config_flag, int& exit_code) {
  auto ctx = std::make_unique<store_context>();
  try {
    ctx->cfg = config::load_file(config::resolve_path(config_flag));
  } catch (const config::load_error& e) {
    for (const auto& line : e.errors()) std::cerr << line << "\n";
    exit_code = 1;
    return nullptr;
  }
  ctx->store = adapters::open_store(ctx->cfg.store);
  if (!ctx->store) {
    std::cerr << "keygate: this command needs store.postgres or store.sqlite in the configuration\n";
    exit_code = 1;
    return nullptr;
  }
  try {
    ctx->invalidation = std::make_unique<cli_invalidation>(ctx->cfg, *ctx->store);
  } catch (const std::exception& e) {
    std::cerr << "keygate: " << e.what() << "\n";
    exit_code = 1;
    return nullptr;
  }
  ctx->service = std::make_unique<manage::service>(*ctx->store, ctx->invalidation->sink(),
                                                   manage::service_options::from(ctx->cfg));
  return ctx;
}

int exit_code_for(errc code) noexcept {
  return source_of(code) == error_source::dependency ? 2 : 1;
}

int fail(const manage::error& e) {
  if (source_of(e.code) == error_source::dependency)
    std::cerr << "keygate: store unavailable (" << code_name(e.code) << "): " << e.message << "\n";
  else
    std::cerr << "keygate: " << e.message << " (" << code_name(e.code) << ")\n";
  return exit_code_for(e.code);
}

int fail_usage(const std::string& message) {
  std::cerr << "keygate: " << message << "\n";
  return 1;
}

}  // namespace keygate::cli
