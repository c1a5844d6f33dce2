// A child process for integration tests: started with fork/exec, its stdout and stderr sent
// to a log file, killed (SIGKILL) on destruction if still running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace beam_exporter::testing {

class Subprocess {
 public:
  // argv[0] is looked up in PATH; when it is not there (or not executable) the constructor throws,
  // naming it. `env` entries are added to (or override) the environment.
  // `stdin_path` (default /dev/null) is opened as the child's standard input. Without a
  // `log_path` the output goes to a temporary directory that goes with this object.
  Subprocess(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
             std::string log_path = "", std::string stdin_path = "/dev/null");
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  void Signal(int sig);
  // Waits for exit up to `timeout`; returns the exit status (or 128+signal) if it exited.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Sends SIGTERM, waits up to `grace`, then SIGKILL.
  int Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
  // Everything the process wrote so far.
  std::string Output() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::optional<TempDir> log_dir_;  // holds the log when no log_path was given (declared first: set before log_path_)
  std::string log_path_;
};

// Runs a command to completion (up to `timeout`), returning its exit status and combined output.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         std::map<std::string, std::string> env = {}, const std::string& input = "");

}  // namespace beam_exporter::testing
