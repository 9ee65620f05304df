#include "app/gateway.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/auth_stack.hpp"
#include "keygate/admin/internal_server.hpp"
#include "keygate/admin/management_api.hpp"
#include "keygate/build_info.hpp"
#include "keygate/config/loader.hpp"
#include "keygate/core/malloc_info.hpp"
#include "keygate/http/worker.hpp"
#include "keygate/obs/logging.hpp"
#include "keygate/obs/metrics.hpp"
#include "keygate/proxy/runtime.hpp"

namespace keygate::app {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// JSON bodies are built in plain functions: GCC 12 mishandles braced-list temporaries inside
// coroutines (the handlers below are coroutine lambdas).
std::string readiness_body(bool draining, bool ready, const char* postgres, const char* redis) {
  return nlohmann::json{{"status", draining ? "draining"
                                   : ready  ? "ready"
                                            : "not_ready"},
                        {"postgres", postgres},
                        {"redis", redis}}
      .dump();
}

std::string version_body() {
  return nlohmann::json{{"version", build_info::version},
                        {"api_version", build_info::api_version},
                        {"revision", build_info::git_revision}}
      .dump();
}

struct gateway::impl {
  std::string config_path;
  std::shared_ptr<const config::config> cfg;
  obs::registry metrics;
  std::unique_ptr<asio::ssl::context> server_tls;
  std::unique_ptr<http::worker_shared> shared;
  std::shared_ptr<const proxy::runtime> runtime;
  std::vector<std::unique_ptr<http::worker>> workers;
  std::unique_ptr<auth_stack>
      auth;  // after `workers`: destroyed first (its Redis clients use their executors)
  admin::internal_server internal;
  admin::api_context api;
  std::mutex cfg_mutex;  // `cfg` is replaced on reload while the internal thread reads it
  std::atomic<bool> draining{false};

  std::shared_ptr<const config::config> current_config() {
    std::lock_guard lock(cfg_mutex);
    return cfg;
  }
  obs::counter* reload_ok = nullptr;
  obs::counter* reload_failed = nullptr;

  unsigned worker_count() const {
    const unsigned n = cfg->server.workers ? cfg->server.workers : std::thread::hardware_concurrency();
    return n ? n : 1;
  }

  void setup_tls() {
    if (!cfg->server.tls) return;
    server_tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    server_tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                            asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                            asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    try {
      server_tls->use_certificate_chain_file(cfg->server.tls->cert_file);
      server_tls->use_private_key_file(cfg->server.tls->key_file, asio::ssl::context::pem);
    } catch (const std::exception& e) {
      throw std::runtime_error("server.tls: cannot load certificate/key: " + std::string(e.what()));
    }
  }

  void register_internal_routes() {
    using admin::json_response;
    namespace bh = boost::beast::http;
    internal.route(
        "/healthz",
        [](const admin::request& req, const admin::caller_info&) -> asio::awaitable<admin::response> {
          co_return json_response(req, bh::status::ok, R"({"status":"ok"})");
        });
    internal.route(
        "/readyz",
        [this](const admin::request& req, const admin::caller_info&) -> asio::awaitable<admin::response> {
          // Ready when Postgres answers (or no store is configured: a pure proxy); Redis is
          // reported but optional (keygate serves without it).
          const bool pg_ok = !auth->store || auth->store_ready();
          const bool ready = pg_ok && !draining;
          const auto body = readiness_body(draining, ready,
                                           !auth->store ? "not_configured"
                                           : pg_ok      ? "up"
                                                        : "down",
                                           !auth->redis_configured() ? "not_configured"
                                           : auth->redis_healthy()   ? "up"
                                                                     : "down");
          co_return json_response(req, ready ? bh::status::ok : bh::status::service_unavailable, body);
        });
    internal.route(
        "/version",
        [](const admin::request& req, const admin::caller_info&) -> asio::awaitable<admin::response> {
          co_return json_response(req, bh::status::ok, version_body());
        });
    internal.route(
        "/.well-known/jwks.json",
        [this](const admin::request& req, const admin::caller_info&) -> asio::awaitable<admin::response> {
          // The assertion public keys (SPEC §4): the current one and, after a rotation (SIGHUP
          // with a new key file), the one it replaced. A short max-age lets upstreams cache it
          // and still see a rotation soon.
          auto jwks = auth->assertions.jwks_json();
          if (jwks.empty())
            co_return json_response(req, bh::status::not_found,
                                    R"({"error":"not_found","message":"auth.assertion is not configured"})");
          auto res = json_response(req, bh::status::ok, std::move(jwks));
          res.set(bh::field::cache_control, "max-age=300");
          co_return res;
        });
    internal.route(
        "/metrics",
        [this](const admin::request& req, const admin::caller_info&) -> asio::awaitable<admin::response> {
          admin::response res{bh::status::ok, req.version()};
          res.set(bh::field::content_type, "text/plain; version=0.0.4");
          res.set(bh::field::cache_control, "no-store");
          res.set("X-Content-Type-Options", "nosniff");
          res.keep_alive(req.keep_alive());
          res.body() = metrics.render();
          res.prepare_payload();
          co_return res;
        });
  }

  void reload() {
    try {
      auto fresh = std::make_shared<const config::config>(config::load_file(config_path));
      if (fresh->server.listen.to_string() != cfg->server.listen.to_string() ||
          fresh->internal.listen.to_string() != cfg->internal.listen.to_string() ||
          fresh->server.workers != cfg->server.workers)
        spdlog::warn("reload: listen addresses and worker count change only on restart");
      obs::setup_logging(fresh->log);
      auto next = proxy::runtime::build(fresh, worker_count(), metrics, runtime.get());
      // Re-reads the assertion key file (rotation); throws on an unusable key, and then
      // nothing of this reload is applied.
      auth->assertions.install(fresh->auth.assertion);
      {
        std::lock_guard lock(cfg_mutex);
        cfg = fresh;
      }
      runtime = next;
      for (auto& w : workers) w->update_runtime(next);
      reload_ok->inc();
      spdlog::info("configuration reloaded from {} ({} routes, {} upstreams)", config_path,
                   fresh->routes.size(), fresh->upstreams.size());
    } catch (const config::load_error& e) {
      reload_failed->inc();
      for (const auto& line : e.errors())
        spdlog::error("reload rejected, keeping the running configuration: {}", line);
    } catch (const std::exception& e) {
      reload_failed->inc();
      spdlog::error("reload rejected, keeping the running configuration: {}", e.what());
    }
  }

  void drain() {
    draining = true;
    const auto timeout = cfg->server.limits.drain_timeout;
    spdlog::info("draining: no new connections, finishing in-flight requests (up to {} ms)", timeout.count());
    for (auto& w : workers) w->begin_drain();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::size_t live = 0;
      for (auto& w : workers) live += w->live_sessions();
      if (live == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::size_t left = 0;
    for (auto& w : workers) left += w->live_sessions();
    if (left) spdlog::warn("drain timeout: closing {} connections", left);
    for (auto& w : workers) w->stop();
    for (auto& w : workers) w->join();
    internal.stop();
    auth->stop();
  }
};

gateway::gateway(std::string config_path, config::config cfg) : impl_(std::make_unique<impl>()) {
  impl_->config_path = std::move(config_path);
  impl_->cfg = std::make_shared<const config::config>(std::move(cfg));
}

gateway::~gateway() = default;

int gateway::run() {
  auto& s = *impl_;
  obs::setup_logging(s.cfg->log);
  s.setup_tls();
  s.shared = std::make_unique<http::worker_shared>(s.metrics);
  s.shared->server_tls = s.server_tls.get();
  s.shared->active_connections =
      &s.metrics.gauges("keygate_active_connections", "Open client connections on the public listener", {})
           .with({});
  s.shared->framing_rejections = &s.metrics.counters(
      "keygate_framing_rejections_total", "Requests refused by strict HTTP framing checks", {"reason"});
  s.shared->rejected_connections =
      &s.metrics
           .counters("keygate_rejected_connections_total", "Connections refused over max_connections", {})
           .with({});
  auto& reloads =
      s.metrics.counters("keygate_config_reloads_total", "SIGHUP reloads by outcome", {"outcome"});
  s.reload_ok = &reloads.with({"ok"});
  s.reload_failed = &reloads.with({"failed"});

  const unsigned n = s.worker_count();
  s.runtime = proxy::runtime::build(s.cfg, n, s.metrics, nullptr);
  const auto public_ep =
      tcp::endpoint(asio::ip::make_address(s.cfg->server.listen.host), s.cfg->server.listen.port);
  const auto internal_ep =
      tcp::endpoint(asio::ip::make_address(s.cfg->internal.listen.host), s.cfg->internal.listen.port);

  // Signals are blocked in every thread but this one, which waits for them.
  asio::io_context control;
  asio::signal_set signals(control, SIGINT, SIGTERM, SIGHUP);

  for (unsigned i = 0; i < n; ++i) {
    s.workers.push_back(std::make_unique<http::worker>(i, *s.shared, s.runtime));
    try {
      s.workers.back()->listen(public_ep);
    } catch (const std::exception& e) {
      throw std::runtime_error("server.listen " + s.cfg->server.listen.to_string() + ": " + e.what());
    }
  }
  std::vector<asio::any_io_executor> executors;
  for (auto& w : s.workers) executors.push_back(w->io().get_executor());
  s.auth = std::make_unique<auth_stack>(*s.cfg, executors, s.metrics);
  s.shared->auth = s.auth->authenticator.get();
  s.register_internal_routes();
  s.api.config = [&s] { return s.current_config(); };
  s.api.lookup = s.auth->lookup.get();
  s.api.store = s.auth->store.get();
  s.api.management = s.auth->management;
  s.api.service = s.auth->service.get();
  s.api.sink = s.auth->sink.get();
  s.api.pool = &s.auth->management_pool;
  s.api.metrics = &s.metrics;
  admin::register_management_api(s.internal, s.api);
  try {
    s.internal.listen(internal_ep);
  } catch (const std::exception& e) {
    throw std::runtime_error("internal.listen " + s.cfg->internal.listen.to_string() + ": " + e.what());
  }
  for (auto& w : s.workers) w->start_thread();
  s.internal.start_thread();
  s.auth->start();
  // Connections queue on the bound sockets while Redis is dialled, so the first requests find it
  // instead of all falling through to the store. An unreachable Redis delays start-up by at most
  // its connect timeout; its client logs that and keeps retrying while keygate serves without it.
  s.auth->wait_for_redis();
  for (auto& w : s.workers) w->start_accepting();
  spdlog::info("keygate {} listening on {} (internal {}), {} worker(s), malloc {}", build_info::version,
               s.cfg->server.listen.to_string(), s.cfg->internal.listen.to_string(), n, core::malloc_name());

  bool stopping = false;
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        s.reload();
        wait_signal();
        return;
      }
      stopping = true;
    });
  };
  wait_signal();
  while (!stopping) control.run_one();
  s.drain();
  spdlog::info("keygate stopped");
  return 0;
}

}  // namespace keygate::app
