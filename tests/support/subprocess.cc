#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace beam_exporter::testing {
namespace {

// A test that needs a tool the machine lacks fails at once, naming it, instead of waiting for
// a process that could never start (gtest reports the exception as the test's failure).
void RequireExecutable(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    if (access(program.c_str(), X_OK) != 0) throw std::runtime_error("cannot execute " + program);
    return;
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && access((dir + "/" + program).c_str(), X_OK) == 0) return;
  }
  throw std::runtime_error("'" + program + "' is not installed (not found in PATH); scripts/install-deps installs it");
}

}  // namespace

Subprocess::Subprocess(std::vector<std::string> argv, std::map<std::string, std::string> env,
                       std::string log_path, std::string stdin_path)
    : log_dir_(log_path.empty() ? std::make_optional<TempDir>() : std::nullopt),
      log_path_(log_dir_ ? log_dir_->File("output.log") : std::move(log_path)) {
  RequireExecutable(argv.at(0));
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    setpgid(0, 0);
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int in = open(stdin_path.c_str(), O_RDONLY);
    if (in >= 0) dup2(in, 0);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
}

Subprocess::~Subprocess() {
  if (Running()) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    Wait(std::chrono::milliseconds(5000));
  }
}

bool Subprocess::Running() {
  if (status_) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return r == 0;
}

void Subprocess::Signal(int sig) {
  if (Running()) kill(pid_, sig);
}

std::optional<int> Subprocess::Wait(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

int Subprocess::Stop(std::chrono::milliseconds grace) {
  Signal(SIGTERM);
  if (auto st = Wait(grace)) return *st;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  return Wait(std::chrono::milliseconds(5000)).value_or(-1);
}

std::string Subprocess::Output() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         std::map<std::string, std::string> env, const std::string& input) {
  TempDir dir;
  Subprocess p(argv, std::move(env), dir.File("output.log"), input.empty() ? "/dev/null" : dir.Write("input", input));
  CommandResult r;
  auto st = p.Wait(timeout);
  if (!st) {
    p.Stop(std::chrono::milliseconds(100));
    r.status = -1;
  } else {
    r.status = *st;
  }
  r.output = p.Output();
  return r;
}

}  // namespace beam_exporter::testing
