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
  ctx->service =
      std::make_unique<manage::service>(*ctx->store, ctx->sink, manage::service_options::from(ctx->cfg));
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

std::string format_time(store::time_point t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto days = std::chrono::floor<std::chrono::days>(secs);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::hh_mm_ss hms{secs - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::optional<store::time_point> parse_rfc3339(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) return std::nullopt;
  if (s.size() < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')) return std::nullopt;
  if (std::sscanf(s.c_str() + 11, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8) return std::nullopt;
  std::size_t i = 19;
  std::chrono::microseconds frac{0};
  if (i < s.size() && s[i] == '.') {
    std::int64_t scale = 100000;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10)
      if (scale > 0) frac += std::chrono::microseconds((s[i] - '0') * scale);
  }
  std::chrono::minutes offset{0};
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59) return std::nullopt;
    offset = std::chrono::hours(oh) + std::chrono::minutes(om);
    if (s[i] == '-') offset = -offset;
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const auto t = std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
                 std::chrono::seconds(sec) + frac - offset;
  return std::chrono::time_point_cast<store::clock::duration>(t);
}

std::string key_status(const store::api_key& k, store::time_point now) {
  if (k.revoked_at) return "revoked";
  if (k.disabled_at) return "disabled";
  if (k.expires_at && *k.expires_at <= now) return "expired";
  return "active";
}

namespace {
nlohmann::json opt_time(const std::optional<store::time_point>& t) {
  return t ? nlohmann::json(format_time(*t)) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json to_json(const store::api_key& k, store::time_point now) {
  return {{"id", k.id},
          {"tenant_id", k.tenant_id},
          {"user_id", k.user_id},
          {"name", k.name},
          {"description", k.description},
          {"display_prefix", k.display_prefix},
          {"scopes", k.scopes},
          {"role", std::string(core::to_string(k.role))},
          {"status", key_status(k, now)},
          {"created_at", format_time(k.created_at)},
          {"updated_at", format_time(k.updated_at)},
          {"expires_at", opt_time(k.expires_at)},
          {"disabled_at", opt_time(k.disabled_at)},
          {"revoked_at", opt_time(k.revoked_at)},
          {"last_used_at", opt_time(k.last_used_at)},
          {"rotated_from", k.rotated_from ? nlohmann::json(*k.rotated_from) : nlohmann::json(nullptr)}};
}

nlohmann::json to_json(const store::tenant& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"api_access", t.api_access},
          {"max_keys_per_user",
           t.max_keys_per_user ? nlohmann::json(*t.max_keys_per_user) : nlohmann::json(nullptr)},
          {"created_at", format_time(t.created_at)}};
}

nlohmann::json to_json(const store::user& u) {
  return {{"id", u.id},
          {"tenant_id", u.tenant_id},
          {"role", std::string(core::to_string(u.role))},
          {"disabled", u.disabled_at.has_value()},
          {"created_at", format_time(u.created_at)}};
}

}  // namespace keygate::cli
