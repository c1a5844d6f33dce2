#include "tests/support/erlang_node.h"

#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <stdexcept>
#include <thread>

namespace beam_exporter::testing {
namespace {
// erl_call resolves this machine's own host name and crashes (SIGSEGV) when it cannot.
constexpr const char* kErlCallCrashHint =
    " (erl_call crashed: does this machine's host name resolve? Check /etc/hosts)";
}  // namespace

std::string RandomToken(size_t length) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::mt19937_64 gen(rd());
  std::uniform_int_distribution<size_t> pick(0, sizeof(kChars) - 2);
  std::string out;
  for (size_t i = 0; i < length; ++i) out.push_back(kChars[pick(gen)]);
  return out;
}

ErlangNode::ErlangNode(std::vector<std::string> extra_args, std::string name)
    : extra_args_(std::move(extra_args)),
      name_(name.empty() ? "app_" + RandomToken(8) + "@127.0.0.1" : std::move(name)),
      cookie_(RandomToken(20)) {
  cookie_file_ = dir_.Write("cookie", cookie_ + "\n");
  chmod(cookie_file_.c_str(), 0600);
  Launch();
  if (!WaitReady()) {
    throw std::runtime_error("erlang node " + name_ + " did not start: " + process_->Output() + last_eval_error_);
  }
}

ErlangNode::~ErlangNode() {
  if (process_) process_->Stop(std::chrono::milliseconds(2000));
}

void ErlangNode::Launch() {
  std::vector<std::string> argv = {"erl", "-name", name_, "-setcookie", cookie_, "-noshell", "-noinput"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  process_ = std::make_unique<Subprocess>(argv);
}

std::string ErlangNode::Eval(const std::string& exprs, std::chrono::milliseconds timeout) {
  CommandResult r = RunCommand({"erl_call", "-name", name_, "-c", cookie_, "-e"}, timeout, {}, exprs + "\n");  // erl_call -e needs the final newline
  if (r.status != 0) {
    throw std::runtime_error("erl_call failed (" + std::to_string(r.status) + "): " + r.output +
                             (r.status == 128 + 11 ? kErlCallCrashHint : ""));
  }
  while (!r.output.empty() && (r.output.back() == '\n' || r.output.back() == '\r')) r.output.pop_back();
  return r.output;
}

bool ErlangNode::WaitReady(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (!process_->Running()) return false;
    CommandResult r = RunCommand({"erl_call", "-name", name_, "-c", cookie_, "-e"},
                                 std::chrono::milliseconds(3000), {}, "ok.\n");
    if (r.status == 0 && r.output.find("ok") != std::string::npos) return true;
    last_eval_error_ = "; last erl_call: status " + std::to_string(r.status) + " " + r.output +
                       (r.status == 128 + 11 ? kErlCallCrashHint : "");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void ErlangNode::Kill() { process_->Stop(std::chrono::milliseconds(0)); }

void ErlangNode::Restart() {
  Kill();
  Launch();
  if (!WaitReady()) {
    throw std::runtime_error("erlang node " + name_ + " did not restart: " + process_->Output() + last_eval_error_);
  }
}

}  // namespace beam_exporter::testing
