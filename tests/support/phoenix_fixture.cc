#include "tests/support/phoenix_fixture.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/paths.h"

namespace beam_exporter::testing {

std::string PhoenixFixturePath(const std::string& name) {
  std::string path = std::string(kSharedDir) + "/fixtures/phoenix-1.7/" + name;
  if (!std::filesystem::exists(path)) {
    ADD_FAILURE() << "missing fixture " << path
                  << ": the recordings of a real Phoenix stack must be in ../shared/fixtures/phoenix-1.7";
  }
  return path;
}

std::vector<std::string> ReadStatsdDatagrams(const std::string& path) {
  std::vector<std::string> datagrams;
  std::ifstream in(path, std::ios::binary);
  for (std::string line; std::getline(in, line);) {
    std::string datagram;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size() && (line[i + 1] == '\\' || line[i + 1] == 'n')) {
        datagram.push_back(line[i + 1] == 'n' ? '\n' : '\\');
        ++i;
      } else {
        datagram.push_back(line[i]);
      }
    }
    datagrams.push_back(std::move(datagram));
  }
  return datagrams;
}

}  // namespace beam_exporter::testing
