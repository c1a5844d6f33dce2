// beam_exporter: a Prometheus exporter for Erlang/Elixir (BEAM) systems.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "exporter/app_config.h"
#include "exporter/build_info.h"
#include "exporter/daemon.h"
#include "exporter/flags.h"
#include "exporter/logging.h"

using namespace beam_exporter;

namespace {

// Waits for SIGHUP (reload) and SIGTERM/SIGINT (stop) on the main thread. The signals are
// blocked in every thread (the mask is inherited), so no handler runs in a random thread.
int RunUntilSignalled(Daemon& daemon) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      log::Info("SIGHUP received, reloading the configuration");
      daemon.Reload();
      continue;
    }
    log::Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    daemon.Stop();
    return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Writes to a closed socket (HTTP client gone, node gone) must return EPIPE, not kill us.
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  log::Init(log::Level::kInfo, log::Format::kLogfmt);
  const auto& descriptors = BuiltinCollectors();
  ParsedFlags flags;
  try {
    flags = ParseFlags(std::vector<std::string>(argv + 1, argv + argc), descriptors);
  } catch (const FlagError& e) {
    std::cerr << "beam_exporter: " << e.what() << "\n";
    return 2;
  }
  const BuildInfo build = CurrentBuildInfo();
  if (flags.help) {
    std::cout << Usage(descriptors);
    return 0;
  }
  if (flags.version) {
    std::cout << "beam_exporter, version " << build.version << " (revision: " << build.revision << ")\n"
              << "  compiler: " << build.compiler << "\n";
    return 0;
  }
  if (flags.config_check) {
    try {
      DecodeAppConfig(ReadMergedYaml(flags), descriptors);
    } catch (const std::exception& e) {
      std::cerr << "beam_exporter: invalid configuration: " << e.what() << "\n";
      return 1;
    }
    std::cout << "configuration OK" << (flags.config_file.empty() ? "" : ": " + flags.config_file) << "\n";
    return 0;
  }

  Daemon daemon(flags, descriptors, build);
  try {
    daemon.Start();
  } catch (const std::exception& e) {
    log::Error("cannot start", {{"err", e.what()}});
    return 1;
  }
  log::Info("started", {{"version", build.version}, {"revision", build.revision}});
  return RunUntilSignalled(daemon);
}
