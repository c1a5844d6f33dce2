#include "tests/support/golden_file.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace beam_exporter::testing {

std::string GoldenDiff(const std::string& path, const std::set<std::string>& lines) {
  if (std::getenv("BEAM_EXPORTER_UPDATE_GOLDEN")) {
    std::ofstream out(path);
    for (const auto& l : lines) out << l << "\n";
    return "";
  }
  std::ifstream in(path);
  if (!in) return "missing golden file " + path + " (write it with BEAM_EXPORTER_UPDATE_GOLDEN=1)";
  std::set<std::string> golden;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) golden.insert(l);
  }
  std::ostringstream diff;
  for (const auto& l : golden) {
    if (!lines.count(l)) diff << "- " << l << "\n";
  }
  for (const auto& l : lines) {
    if (!golden.count(l)) diff << "+ " << l << "\n";
  }
  return diff.str();
}

std::set<std::string> ExpositionWithoutSelfMetrics(const std::string& exposition) {
  std::set<std::string> out;
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    std::string name = line.rfind("# ", 0) == 0 ? line.substr(line.find(' ', 2) + 1) : line;
    if (line.empty() || name.rfind("beam_exporter_", 0) == 0 || name.rfind("process_", 0) == 0) continue;
    out.insert(line);
  }
  return out;
}

}  // namespace beam_exporter::testing
