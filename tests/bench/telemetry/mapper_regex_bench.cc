// Cost per name of `match_type: regex` rules: the mapper's RE2 against the std::regex
// (ECMAScript) matching it replaced, in the same run, on the shipped Ecto preset's regex rules
// (`^(.+)\.query\.<x>_time$`, nine of them). Every name is new to the mapper (its per-name cache is
// what keeps repeated names from being matched again), so each one is matched against every rule.
//   * std::regex (baseline): regex_search over the rules, captures copied out, as the mapper did.
//     The baseline lives only here, to measure against.
//   * RE2: the same loop with the mapper's RegexMatch over the rules RE2 compiled when the preset
//     loaded (MappingRule::regex).
//   * Mapper::Map, every name new: the whole mapping of a new name (RE2 matching, template
//     expansion, labels), with a mapper whose cache holds one name.
// Names: Ecto repo names that match (`my_app.repo.query.total_time`), names that match none of
// the rules (Phoenix events, which go to the default mapping), and 1000-byte names (the old
// length limit; std::regex's matching recursed per character).
// Thread CPU time; ratios are RE2 against std::regex in the same run.
//   telemetry_mapper_regex_bench [--seconds=2]

#include <cstdio>
#include <cstring>
#include <regex>
#include <string>
#include <vector>

#include "collectors/telemetry/mapper.h"
#include "tests/bench/telemetry/thread_cpu_timing.h"

using namespace beam_exporter::telemetry;

namespace {

struct NameSet {
  const char* what;
  std::vector<std::string> names;
};

std::vector<NameSet> Names() {
  static const char* kinds[] = {"total_time", "queue_time", "decode_time", "idle_time"};
  NameSet matching{"Ecto names (match one rule each)", {}};
  NameSet other{"Phoenix names (match no rule)", {}};
  NameSet long_names{"1000-byte Ecto names", {}};
  for (int i = 0; i < 256; ++i) {
    std::string repo = "app" + std::to_string(i) + ".repo";
    matching.names.push_back(repo + ".query." + kinds[i % 4]);
    other.names.push_back("phoenix.router_dispatch.stop.duration" + std::to_string(i));
    std::string prefix(1000 - std::strlen(".query.") - std::strlen(kinds[i % 4]) - 4, 'a');
    long_names.names.push_back(prefix + std::to_string(1000 + i) + ".query." + kinds[i % 4]);
  }
  return {matching, other, long_names};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--seconds=", 10) == 0) seconds = std::stod(argv[i] + 10);
  }
  MappingRules rules;
  rules.AddFile(std::string(BEAM_EXPORTER_SOURCE_DIR) + "/config/mappings/ecto.yml");
  std::vector<std::regex> std_regexes;
  std::vector<const re2::RE2*> re2s;
  for (const MappingRule& rule : rules.rules) {
    if (rule.match_type != MappingRule::MatchType::kRegex) continue;
    std_regexes.emplace_back(rule.match, std::regex::ECMAScript | std::regex::optimize);
    re2s.push_back(rule.regex.get());
  }

  std::printf("%zu regex rules (config/mappings/ecto.yml), %.1f s per measurement, thread CPU time\n\n",
              re2s.size(), seconds);
  std::printf("| names | std::regex ns/name | RE2 ns/name | RE2 vs std::regex | Mapper::Map, every name new, ns/name |\n");
  std::printf("|---|---|---|---|---|\n");
  size_t sink = 0;
  for (const NameSet& set : Names()) {
    std::vector<std::string> captures;
    double std_ns = CpuNsPerItem(set.names.size(), seconds, [&] {
      for (const std::string& name : set.names) {
        for (const std::regex& re : std_regexes) {
          std::smatch m;
          if (!std::regex_search(name, m, re)) continue;
          captures.clear();
          for (const auto& group : m) captures.emplace_back(group.str());
          sink += captures.size();
        }
      }
    });
    double re2_ns = CpuNsPerItem(set.names.size(), seconds, [&] {
      for (const std::string& name : set.names) {
        for (const re2::RE2* re : re2s) {
          if (RegexMatch(*re, name, &captures)) sink += captures.size();
        }
      }
    });
    Mapper mapper(rules, /*cache_limit=*/1);
    MappedSample out;
    double map_ns = CpuNsPerItem(set.names.size(), seconds, [&] {
      for (const std::string& name : set.names) {
        Sample s;
        s.name = name;
        s.kind = SampleKind::kObserver;
        s.value = 1;
        sink += static_cast<size_t>(mapper.Map(s, &out));
      }
    });
    std::printf("| %s | %.0f | %.0f | %.2fx (%.1f times faster) | %.0f |\n", set.what, std_ns, re2_ns, re2_ns / std_ns,
                std_ns / re2_ns, map_ns);
  }
  std::printf("\n(checksum %zu)\n", sink);
  return 0;
}
