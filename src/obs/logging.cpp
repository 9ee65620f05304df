#include "keygate/obs/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "keygate/http/error_response.hpp"

namespace keygate::obs {
namespace {

void append_time(std::string& out, std::chrono::system_clock::time_point tp) {
  const auto secs = std::chrono::system_clock::to_time_t(tp);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  out += buf;
}

// Formats every process log record as one JSON object with the message escaped.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"time\":\"";
    append_time(line, msg.time);
    line += "\",\"level\":\"";
    const auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"msg\":\"";
    http::append_json_escaped(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "\"}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<json_formatter>(); }
};

std::shared_ptr<spdlog::logger> access_logger() {
  static const auto logger = [] {
    auto l = std::make_shared<spdlog::logger>("access", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    l->set_pattern("%v");
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return logger;
}

}  // namespace

void setup_logging(const config::log& log) {
  static std::once_flag once;
  std::call_once(once, [] {
    auto logger =
        std::make_shared<spdlog::logger>("keygate", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    spdlog::set_default_logger(logger);
  });
  auto logger = spdlog::default_logger();
  if (log.format == config::log_format::json)
    logger->set_formatter(std::make_unique<json_formatter>());
  else
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(log.level));
  logger->flush_on(spdlog::level::info);
}

void write_access_log(const access_record& r) {
  thread_local std::string line;
  line.clear();
  line += "{\"time\":\"";
  append_time(line, std::chrono::system_clock::now());
  const auto field = [&](const char* name, std::string_view value) {
    line += "\",\"";
    line += name;
    line += "\":\"";
    http::append_json_escaped(line, value);
  };
  line += "\",\"type\":\"access";
  field("request_id", r.request_id);
  field("method", r.method);
  field("path", r.path);
  field("route", r.route);
  field("upstream", r.upstream);
  field("auth_method", r.auth_method);
  field("key_id", r.key_id);
  field("tenant", r.tenant);
  field("cache_tier", r.cache_tier);
  field("client_ip", r.client_ip);
  char nums[96];
  std::snprintf(nums, sizeof nums, "\",\"status\":%u,\"duration_ms\":%.3f%s}", r.status, r.duration_ms,
                r.would_deny ? ",\"would_deny\":true" : "");
  line += nums;
  access_logger()->info(line);
}

}  // namespace keygate::obs
