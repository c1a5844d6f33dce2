// In-process CPU cost per line of each stage, on the ingest benchmark's DogStatsD traffic:
// parse only (the baseline), parse + map, and the whole pipeline (parse, map, aggregate; with
// its line cache, which skips parsing tags and mapping for lines seen before); the same with the
// durations mapped to a summary (default quantile objectives) instead of a histogram; then the
// native form per event: decode only, and the whole pipeline (no line cache on that path).
// No sockets: this isolates our code from the kernel. Ratios are against parse-only in the
// same run.
//   telemetry_pipeline_bench [--seconds=2]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "collectors/telemetry/aggregator.h"
#include "collectors/telemetry/ingest_stats.h"
#include "collectors/telemetry/mapper.h"
#include "collectors/telemetry/pipeline.h"
#include "collectors/telemetry/statsd_line.h"
#include "tests/bench/telemetry/thread_cpu_timing.h"

#include <ei.h>

using namespace beam_exporter::telemetry;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> Datagrams(size_t* lines) {
  std::vector<std::string> out;
  size_t seq = 0;
  *lines = 0;
  for (int d = 0; d < 512; ++d) {
    std::string body;
    while (body.size() < 1300) {
      size_t route = (seq++ * 7) % 50;
      char line[256];
      std::snprintf(line, sizeof line,
                    "phoenix.router_dispatch.stop.duration:%zu.%03zu|h|#method:%s,route:/api/v1/items/%zu,status:%d\n",
                    seq % 900, seq % 1000, seq % 3 == 0 ? "POST" : "GET", route, seq % 11 == 0 ? 500 : 200);
      body += line;
      ++*lines;
    }
    body.pop_back();
    out.push_back(body);
  }
  return out;
}

// Native datagrams of 20 router-dispatch events each (one duration measurement, 3 metadata).
std::vector<std::string> NativeDatagrams(size_t* events) {
  std::vector<std::string> out;
  *events = 0;
  size_t seq = 0;
  for (int d = 0; d < 128; ++d) {
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 2);
    ei_x_encode_atom(&x, "app@127.0.0.1");
    ei_x_encode_list_header(&x, 20);
    for (int e = 0; e < 20; ++e, ++seq) {
      ei_x_encode_tuple_header(&x, 4);
      ei_x_encode_list_header(&x, 3);
      ei_x_encode_atom(&x, "phoenix");
      ei_x_encode_atom(&x, "router_dispatch");
      ei_x_encode_atom(&x, "stop");
      ei_x_encode_empty_list(&x);
      ei_x_encode_map_header(&x, 1);
      ei_x_encode_atom(&x, "duration");
      ei_x_encode_double(&x, 0.001 * static_cast<double>(seq % 900));
      ei_x_encode_map_header(&x, 3);
      ei_x_encode_atom(&x, "method");
      ei_x_encode_binary(&x, seq % 3 == 0 ? "POST" : "GET", seq % 3 == 0 ? 4 : 3);
      std::string route = "/api/v1/items/" + std::to_string((seq * 7) % 50);
      ei_x_encode_atom(&x, "route");
      ei_x_encode_binary(&x, route.data(), static_cast<long>(route.size()));
      ei_x_encode_atom(&x, "status");
      ei_x_encode_long(&x, seq % 11 == 0 ? 500 : 200);
      ei_x_encode_long(&x, static_cast<long>(seq));
      ++*events;
    }
    ei_x_encode_empty_list(&x);
    out.push_back("BXT1" + std::string(x.buff, static_cast<size_t>(x.index)));
    ei_x_free(&x);
  }
  return out;
}

class CountingSink : public StatsdSink {
 public:
  void OnSample(const Sample& s) override { n += s.name.size(); }
  void OnLineError(LineError, std::string_view) override {}
  size_t n = 0;
};

class MappingSink : public StatsdSink {
 public:
  explicit MappingSink(const MappingRules& rules) : mapper(rules) {}
  void OnSample(const Sample& s) override { n += mapper.Map(s, &out) == MapOutcome::kMapped; }
  void OnLineError(LineError, std::string_view) override {}
  Mapper mapper;
  MappedSample out;
  size_t n = 0;
};

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--seconds=", 10) == 0) seconds = std::stod(argv[i] + 10);
  }
  size_t lines = 0;
  std::vector<std::string> datagrams = Datagrams(&lines);
  MappingRules rules;
  rules.AddFile(std::string(BEAM_EXPORTER_SOURCE_DIR) + "/config/mappings/phoenix.yml");

  StatsdParser parser;
  CountingSink counting;
  double parse = CpuNsPerItem(lines, seconds, [&] {
    for (const auto& d : datagrams) parser.ParseDatagram(d, counting);
  });
  MappingSink mapping(rules);
  double map = CpuNsPerItem(lines, seconds, [&] {
    for (const auto& d : datagrams) parser.ParseDatagram(d, mapping);
  });
  Aggregator aggregator({}, 1);
  IngestStats stats;
  Pipeline pipeline({}, rules, &aggregator.shard(0), &stats);
  auto now = Clock::now();
  double full = CpuNsPerItem(lines, seconds, [&] {
    for (const auto& d : datagrams) pipeline.Process(d, now);
  });
  // The same traffic into summaries: every observation goes into each of the window's CKMS
  // estimators, whose cost grows with the observations they hold (all of this run's: the clock
  // does not move, so the window never rotates).
  const std::string summary_rules = "/tmp/pipeline_bench_summary_" + std::to_string(getpid()) + ".yml";
  std::ofstream(summary_rules) << "mappings:\n  - match: phoenix.router_dispatch.stop.duration\n"
                                  "    name: phoenix_http_request_duration_seconds\n    type: summary\n"
                                  "    statsd_unit: milliseconds\n"
                                  "    labels: {method: \"${method}\", route: \"${route}\", status: \"${status}\"}\n";
  MappingRules summary_mapping;
  summary_mapping.AddFile(summary_rules);
  std::filesystem::remove(summary_rules);
  Aggregator summary_aggregator({}, 1);
  IngestStats summary_stats;
  Pipeline summary_pipeline({}, summary_mapping, &summary_aggregator.shard(0), &summary_stats);
  size_t summary_observations = 0;
  double summary = CpuNsPerItem(lines, seconds, [&] {
    for (const auto& d : datagrams) summary_pipeline.Process(d, now);
    summary_observations += lines;
  });
  size_t events = 0;
  std::vector<std::string> native = NativeDatagrams(&events);
  EtfDecoder decoder;
  double decode = CpuNsPerItem(events, seconds, [&] {
    for (const auto& d : native) decoder.Decode(d, counting);
  });
  double native_full = CpuNsPerItem(events, seconds, [&] {
    for (const auto& d : native) pipeline.Process(d, now);
  });
  std::printf("| stage | ns/line | lines per CPU-second | vs parse |\n|---|---|---|---|\n");
  std::printf("| parse | %.0f | %.3g | 1.00 |\n", parse, 1e9 / parse);
  std::printf("| parse + map | %.0f | %.3g | %.2f |\n", map, 1e9 / map, map / parse);
  std::printf("| parse + map + aggregate | %.0f | %.3g | %.2f |\n", full, 1e9 / full, full / parse);
  std::printf("| parse + map + aggregate into summaries (%zu observations in the run) | %.0f | %.3g | %.2f |\n",
              summary_observations, summary, 1e9 / summary, summary / parse);
  std::printf("| native: decode (per event) | %.0f | %.3g | %.2f |\n", decode, 1e9 / decode, decode / parse);
  std::printf("| native: decode + map + aggregate (per event) | %.0f | %.3g | %.2f |\n", native_full, 1e9 / native_full,
              native_full / parse);
  return 0;
}
