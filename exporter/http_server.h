// The HTTP side of the exporter (civetweb): /metrics (or the configured path), the landing
// page /, /-/healthy, /-/ready and POST /-/reload, on one port, optionally behind basic auth
// and TLS. It only routes and frames; what it serves comes from the Routes callbacks.
// Connections are kept alive. /metrics is sent as it is written: chunked (HTTP/1.1; until
// the connection closes for HTTP/1.0) and gzip-compressed when the client accepts gzip.
//
// Thread-safety: callbacks run on civetweb's worker threads, concurrently. SetWebConfig()
// may be called from any thread (reload).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "exporter/exposition_writer.h"
#include "exporter/mutex.h"
#include "exporter/status.h"
#include "exporter/web_config.h"

class CivetServer;

namespace beam_exporter {

struct HttpRoutes {
  std::string telemetry_path = "/metrics";
  // Writes the metrics text into `out` (the server frames, compresses and finishes it);
  // `timeout` comes from Prometheus' X-Prometheus-Scrape-Timeout-Seconds.
  std::function<void(std::chrono::milliseconds timeout, ExpositionWriter* out)> metrics;
  std::function<bool()> ready;
  std::function<Status()> reload;
};

class HttpServer {
 public:
  // Binds and starts serving. Throws ConfigError for a listen address civetweb cannot take,
  // std::runtime_error when binding fails.
  HttpServer(const std::string& listen_address, const WebConfig& web_config, HttpRoutes routes);
  ~HttpServer();

  // Replaces the basic-auth users (TLS settings need a restart).
  void SetWebConfig(const WebConfig& web_config) EXCLUDES(mu_);
  // The port actually bound (useful with port 0).
  int port() const { return port_; }

  class Handler;

 private:
  bool Authorized(const char* authorization_header) EXCLUDES(mu_);

  HttpRoutes routes_;
  std::string bind_host_;    // the IPv4 address we listen on, for waking civetweb at shutdown
  std::string tls_pem_dir_;  // private temp dir holding cert+key for civetweb, removed on stop
  Mutex mu_;
  std::shared_ptr<const WebConfig> web_config_ GUARDED_BY(mu_);
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
};

}  // namespace beam_exporter
