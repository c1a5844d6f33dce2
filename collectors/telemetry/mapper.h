// Mapping rules: which Prometheus metric (name, type, labels, buckets, ttl) a telemetry Sample
// feeds. One language for both input forms (StatsD names and native event names are both
// dotted). Rules come from YAML (inline `mappings:` and preset files); the first rule, in
// order, whose pattern and conditions match wins; unmatched samples get statsd_exporter's
// default treatment (escaped name, tags as labels, observers as histograms).
//
// MappingRules is immutable after loading and shared by all reader threads. Each reader owns
// a Mapper (its match cache and scratch buffers), so mapping takes no lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/telemetry/sample.h"
#include "collectors/telemetry/string_hash.h"
#include "exporter/config_map.h"

namespace re2 {
class RE2;
}

namespace beam_exporter::telemetry {

enum class MetricType : uint8_t { kCounter, kGauge, kHistogram, kSummary };
std::string_view MetricTypeName(MetricType type);

// statsd_exporter's DefBuckets (seconds).
const std::vector<double>& DefaultBuckets();

// What a summary series reports: quantiles over a sliding window (see summary_window.h).
// Defaults are statsd_exporter's (and the Go client's): 0.5, 0.9, 0.99 within 0.05, 0.01,
// 0.001 over the last 10 minutes, in 5 age buckets.
struct SummaryOptions {
  struct Objective {
    double quantile;  // in (0, 1)
    double error;     // allowed rank error, in (0, 1)
  };
  std::vector<Objective> objectives = {{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}};  // ascending; empty: _sum/_count only
  std::chrono::milliseconds max_age{std::chrono::minutes(10)};
  int age_buckets = 5;
};

// Reads summary options (`quantiles: [{quantile, error}]`, `max_age`, `age_buckets`); a key
// left out keeps its value from `base`. Throws ConfigError naming file:line.
SummaryOptions ParseSummaryOptions(ConfigMap map, const SummaryOptions& base);

struct MappingRule {
  enum class MatchType : uint8_t { kGlob, kRegex };
  std::string match;
  MatchType match_type = MatchType::kGlob;
  std::shared_ptr<const re2::RE2> regex;  // match_type regex: RE2 (linear time, no recursion)
  std::optional<SampleSource> match_source;
  std::optional<SampleKind> match_kind;
  // match_metric_type: timer -- StatsD `ms` lines only. telemetry_metrics_statsd's :standard
  // formatter sends every summary and distribution as `ms`, durations or not (vm.memory.total in
  // kilobytes), and the parser has divided them by 1000: such rules scale them back.
  bool match_timer = false;
  std::vector<std::pair<std::string, std::string>> match_tags;  // exact key=value conditions
  bool drop = false;
  std::string name;          // template: $1, ${1}, ${tag}
  std::string literal_name;  // the escaped name when the template has no references
  std::string help;
  std::optional<MetricType> type;  // default: from the sample kind
  bool has_labels = false;         // false: every tag becomes a label
  std::vector<std::pair<std::string, std::string>> labels;  // name -> template, sorted by name
  std::vector<double> buckets;
  std::optional<SummaryOptions> summary;  // type summary; default: MappingRules::default_summary
  double scale = 1;                // applied to every value
  double statsd_unit_scale = 1;    // to seconds, for values not already in seconds
  std::optional<std::chrono::milliseconds> ttl;
};

struct MappingRules {
  std::vector<MappingRule> rules;
  std::vector<double> default_buckets = DefaultBuckets();
  // Base for every rule's summary_options; set it before adding rules.
  SummaryOptions default_summary;
  std::chrono::milliseconds default_ttl{0};  // 0: series never expire

  // Appends rules from a YAML list (each item one rule). Throws ConfigError naming file:line.
  void AddRules(std::vector<ConfigMap> items);
  // Appends the `mappings:` of a mapping file (the file holds nothing else).
  void AddFile(const std::string& path);

 private:
  // A rule without `help` takes that of a rule with the same literal metric name.
  void ShareHelpByName();
};

struct Label {
  std::string_view name;
  std::string_view value;
};

struct MappedSample {
  std::string_view name;  // a valid Prometheus metric name (counters end in _total)
  MetricType type = MetricType::kGauge;
  std::string_view help;
  const std::vector<double>* buckets = nullptr;
  const SummaryOptions* summary = nullptr;  // summaries
  std::chrono::milliseconds ttl{0};
  std::span<const Label> labels;  // sorted by name, unique
  // value = sample.value * rule_scale * unit_scale, in that order (the line cache repeats it).
  double value = 0;
  double rule_scale = 1;
  double unit_scale = 1;
  uint32_t repeat = 1;
  bool relative = false;  // gauges: add instead of set
};

enum class MapOutcome : uint8_t { kMapped, kDefault, kDropped, kInvalidName };

// Replaces characters outside [a-zA-Z0-9_] with '_' and prefixes a leading digit with '_'.
void EscapeName(std::string_view in, std::string* out);

class Mapper {
 public:
  explicit Mapper(const MappingRules& rules, size_t cache_limit = 10000);

  // Fills *out (views valid until the next call). kDropped/kInvalidName leave *out unspecified.
  MapOutcome Map(const Sample& sample, MappedSample* out);

 private:
  struct Candidate {
    uint32_t rule;
    std::vector<std::string> captures;  // [0] is the whole match
  };
  const std::vector<Candidate>& Candidates(std::string_view name);
  void FindCandidates(std::string_view name, std::vector<Candidate>* found) const;
  bool Conditions(const MappingRule& rule, const Sample& sample) const;
  // Appends the expansion of `tmpl` to arena_.
  void Expand(std::string_view tmpl, const std::vector<std::string>& captures, const Sample& sample);
  void FinishLabels();

  const MappingRules& rules_;
  size_t cache_limit_;
  StringMap<std::vector<Candidate>> cache_;
  std::vector<Candidate> uncached_;  // candidates for a name too long to cache
  std::string name_;
  std::string arena_;
  struct PendingLabel {
    std::string_view name;  // a rule's label name, or a view into arena_ when offset >= 0
    int64_t name_offset = -1;
    size_t name_size = 0;
    std::string_view value;
    int64_t value_offset = -1;
    size_t value_size = 0;
  };
  std::vector<PendingLabel> pending_;
  std::vector<Label> labels_;
};

// Whether `name` matches the glob `pattern`: dot-separated segments, each literal or with one
// '*' standing for any run of characters other than '.' (`*`, `http_*`, `*_time`).
// Fills `captures` with [whole name, star1, star2, ...].
bool GlobMatch(std::string_view pattern, std::string_view name, std::vector<std::string>* captures);

// Whether the RE2 `regex` matches anywhere in `name` (unanchored, as statsd_exporter's regexes).
// Fills `captures` with [whole match, group 1, group 2, ...]; a group that took no part is empty.
bool RegexMatch(const re2::RE2& regex, std::string_view name, std::vector<std::string>* captures);

}  // namespace beam_exporter::telemetry
