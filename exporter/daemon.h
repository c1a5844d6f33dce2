// The running exporter: configuration life cycle (load, reload, roll back), collectors'
// start and stop, and the HTTP server.
//
// Thread-safety: Start() and Stop() run on the main thread. Reload() may run on the main
// thread (SIGHUP) and on HTTP threads (POST /-/reload); reloads are serialized by reload_mu_.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "exporter/app_config.h"
#include "exporter/http_server.h"
#include "exporter/mutex.h"
#include "exporter/scraper.h"

namespace beam_exporter {

class Daemon {
 public:
  Daemon(ParsedFlags flags, const std::vector<CollectorDescriptor>& descriptors, const BuildInfo& build);
  ~Daemon();

  // Loads the configuration, starts the collectors and the HTTP server. Throws on failure.
  void Start();
  // Re-reads the configuration file (flags still apply). A bad configuration is rejected,
  // logged and counted, and the running one stays.
  Status Reload() EXCLUDES(reload_mu_);
  bool ready() const { return ready_.load(); }
  // Stops the HTTP server, then the collectors.
  void Stop();

 private:
  // Starts every collector of `config`; on failure stops those already started and rethrows.
  static void StartCollectors(CollectorSet* collectors);
  static void StopCollectors(const CollectorSet& collectors);
  WebConfig LoadWeb(const WebSettings& web) const;

  const ParsedFlags flags_;
  const std::vector<CollectorDescriptor>& descriptors_;
  Scraper scraper_;
  std::unique_ptr<HttpServer> http_;
  Mutex reload_mu_;
  MergedYaml last_good_ GUARDED_BY(reload_mu_);
  WebSettings web_ GUARDED_BY(reload_mu_);
  std::atomic<bool> ready_{false};
};

}  // namespace beam_exporter
