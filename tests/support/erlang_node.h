// A real Erlang node for integration tests: `erl -name <random>@127.0.0.1` with a random
// cookie, started on construction (epmd is started by erl if needed), killed on destruction.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace beam_exporter::testing {

class ErlangNode {
 public:
  // `extra_args` are appended to the erl command line (e.g. {"-pa", dir}).
  explicit ErlangNode(std::vector<std::string> extra_args = {}, std::string name = "");
  ~ErlangNode();

  const std::string& name() const { return name_; }      // e.g. "app_1234@127.0.0.1"
  const std::string& cookie() const { return cookie_; }
  // A file holding the cookie (mode 0600), for --beam.cookie-file.
  const std::string& cookie_file() const { return cookie_file_; }
  Subprocess& process() { return *process_; }

  // Evaluates Erlang expressions (ending in '.') on the node with erl_call and returns what
  // erl_call printed (the result term). Throws on failure.
  std::string Eval(const std::string& exprs, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  // Waits until the node answers Eval.
  bool WaitReady(std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));
  // Kills the node (SIGKILL).
  void Kill();
  // Starts it again under the same name and cookie.
  void Restart();

 private:
  void Launch();
  std::vector<std::string> extra_args_;
  std::string name_;
  std::string cookie_;
  TempDir dir_;  // holds the cookie file
  std::string cookie_file_;
  std::unique_ptr<Subprocess> process_;
  std::string last_eval_error_;  // why the last readiness probe failed, for error messages
};

// A random alphanumeric token, for node names and cookies.
std::string RandomToken(size_t length);

}  // namespace beam_exporter::testing
