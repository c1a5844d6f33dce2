// Temporary files for tests: one directory of its own under the system temp directory ($TMPDIR,
// else /tmp), made fresh and removed with everything in it when the object goes. It is the one
// way tests and their helpers make temporary files, so a suite run leaves nothing behind.
#pragma once

#include <filesystem>
#include <string>

namespace beam_exporter::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) = delete;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The path of `name` inside the directory (nothing is created).
  std::string File(const std::string& name) const;
  // Writes `text` to `name` inside the directory (making its parent directories) and returns its path.
  std::string Write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;  // empty once moved from
};

}  // namespace beam_exporter::testing
