#include "exporter/daemon.h"

#include "exporter/logging.h"

namespace beam_exporter {

Daemon::Daemon(ParsedFlags flags, const std::vector<CollectorDescriptor>& descriptors, const BuildInfo& build)
    : flags_(std::move(flags)), descriptors_(descriptors), scraper_(build) {}

Daemon::~Daemon() { Stop(); }

WebConfig Daemon::LoadWeb(const WebSettings& web) const {
  return web.config_file.empty() ? WebConfig{} : LoadWebConfig(web.config_file);
}

void Daemon::StartCollectors(CollectorSet* collectors) {
  for (size_t i = 0; i < collectors->size(); ++i) {
    try {
      (*collectors)[i].collector->Start();
    } catch (const std::exception& e) {
      for (size_t j = 0; j < i; ++j) (*collectors)[j].collector->Stop();
      throw std::runtime_error("collector " + (*collectors)[i].name + " failed to start: " + e.what());
    }
  }
}

void Daemon::StopCollectors(const CollectorSet& collectors) {
  for (const auto& c : collectors) c.collector->Stop();
}

void Daemon::Start() {
  MergedYaml yaml = ReadMergedYaml(flags_);
  std::unique_ptr<AppConfig> config = DecodeAppConfig(yaml, descriptors_);
  WebConfig web_config = LoadWeb(config->web);
  log::Init(config->log_level, config->log_format);

  auto collectors = std::make_shared<CollectorSet>(std::move(config->collectors));
  StartCollectors(collectors.get());
  scraper_.SetCollectors(collectors);
  scraper_.RecordReload(true);

  HttpRoutes routes;
  routes.telemetry_path = config->web.telemetry_path;
  routes.metrics = [this](std::chrono::milliseconds timeout, ExpositionWriter* out) {
    scraper_.Stream(Collector::Clock::now() + timeout, out);
  };
  routes.ready = [this] { return ready(); };
  routes.reload = [this] { return Reload(); };
  try {
    http_ = std::make_unique<HttpServer>(config->web.listen_address, web_config, routes);
  } catch (...) {
    StopCollectors(*collectors);
    throw;
  }
  {
    MutexLock lock(&reload_mu_);
    last_good_ = yaml;
    web_ = config->web;
  }
  std::string names;
  for (const auto& c : *collectors) names += (names.empty() ? "" : ",") + c.name;
  log::Info("listening", {{"address", config->web.listen_address}, {"port", std::to_string(http_->port())},
                          {"tls", web_config.tls() ? "true" : "false"}, {"collectors", names}});
  ready_.store(true);
}

Status Daemon::Reload() {
  MutexLock lock(&reload_mu_);
  std::unique_ptr<AppConfig> config;
  WebConfig web_config;
  MergedYaml yaml;
  try {
    yaml = ReadMergedYaml(flags_);
    config = DecodeAppConfig(yaml, descriptors_);
    web_config = LoadWeb(config->web);
  } catch (const std::exception& e) {
    scraper_.RecordReload(false);
    log::Error("configuration reload rejected; the running configuration stays", {{"err", e.what()}});
    return Status::InvalidArgument(e.what());
  }
  if (config->web.listen_address != web_.listen_address || config->web.telemetry_path != web_.telemetry_path) {
    log::Warn("web.listen_address and web.telemetry_path changes take effect after a restart");
  }
  // Stop the old collectors before starting the new ones: they may hold the same sockets.
  std::shared_ptr<const CollectorSet> old = scraper_.collectors();
  StopCollectors(*old);
  auto fresh = std::make_shared<CollectorSet>(std::move(config->collectors));
  try {
    StartCollectors(fresh.get());
  } catch (const std::exception& e) {
    // Roll back: rebuild the last good configuration from memory and start it again.
    scraper_.RecordReload(false);
    log::Error("configuration reload failed to start; restoring the previous configuration", {{"err", e.what()}});
    try {
      auto previous = std::make_shared<CollectorSet>(std::move(DecodeAppConfig(last_good_, descriptors_)->collectors));
      StartCollectors(previous.get());
      scraper_.SetCollectors(previous);
    } catch (const std::exception& again) {
      // Nothing left to fall back on (say, the old port was taken meanwhile): keep serving the
      // self-metrics, which show the failed reload, rather than ending the process.
      scraper_.SetCollectors(std::make_shared<CollectorSet>());
      log::Error("the previous configuration failed to start too; serving no collectors", {{"err", again.what()}});
    }
    return Status::Internal(e.what());
  }
  scraper_.SetCollectors(fresh);
  http_->SetWebConfig(web_config);
  log::Init(config->log_level, config->log_format);
  last_good_ = yaml;
  scraper_.RecordReload(true);
  log::Info("configuration reloaded");
  return Status::Ok();
}

void Daemon::Stop() {
  ready_.store(false);
  http_.reset();
  if (auto collectors = scraper_.collectors()) {
    StopCollectors(*collectors);
    scraper_.SetCollectors(nullptr);
  }
}

}  // namespace beam_exporter
