#include "collectors/telemetry/mapper.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <memory>

namespace beam_exporter::telemetry {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9') || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), IsNameChar);
}

// Validates a name template: literal name characters plus $n / ${n} / ${tag} references.
bool IsValidNameTemplate(std::string_view tmpl) {
  if (tmpl.empty()) return false;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '$') {
      if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
        size_t close = tmpl.find('}', i);
        if (close == std::string_view::npos || close == i + 2) return false;
        i = close;
      } else if (i + 1 < tmpl.size() && tmpl[i + 1] >= '0' && tmpl[i + 1] <= '9') {
        ++i;
      } else {
        return false;
      }
    } else if (!IsNameChar(tmpl[i]) && tmpl[i] != ':') {
      return false;
    }
  }
  return true;
}

bool IsValidGlob(std::string_view glob) {
  while (true) {
    size_t dot = glob.find('.');
    std::string_view segment = glob.substr(0, dot);
    if (segment.empty() || std::count(segment.begin(), segment.end(), '*') > 1) return false;
    if (dot == std::string_view::npos) return true;
    glob.remove_prefix(dot + 1);
  }
}

const std::string kReservedPrefix = "beam_exporter_";

// Longer names are matched every time instead of cached, so the cache's memory stays bounded
// (cache_limit names of at most this size) whatever names a sender makes up.
constexpr size_t kMaxCachedNameLength = 1024;

// RE2 (like Go's regexp) reads `{n}` whose count does not fit its integer parser as literal
// text, so `a{999999999999999999}` would quietly match that string. A rule meaning a repetition
// that large is a mistake, so any `{n}`, `{n,}` or `{n,m}` outside a character class with a count
// above RE2's limit is refused here; a literal brace is written `\{`.
constexpr size_t kMaxRepeat = 1000;

// Reads a repetition count (digits only; empty reads as 0). The value saturates above kMaxRepeat.
bool ParseRepeatCount(std::string_view digits, size_t* value) {
  *value = 0;
  for (char d : digits) {
    if (d < '0' || d > '9') return false;
    *value = std::min(*value * 10 + static_cast<size_t>(d - '0'), kMaxRepeat + 1);
  }
  return true;
}

void CheckRepetitionCounts(const ConfigMap& item, std::string_view pattern) {
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      ++i;  // the escaped character is never an operator
      // \x{10FF}, \p{Greek}, \P{Greek}: the braces hold a code point or a class name.
      bool braced = i + 1 < pattern.size() && pattern[i + 1] == '{' &&
                    (pattern[i] == 'x' || pattern[i] == 'p' || pattern[i] == 'P');
      if (braced) i = std::min(pattern.find('}', i), pattern.size());
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') ++i;
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') ++i;  // a leading ']' is literal
    } else if (c == '{') {
      size_t end = pattern.find('}', i);
      if (end == std::string_view::npos) return;
      std::string_view counts = pattern.substr(i + 1, end - i - 1);
      size_t comma = counts.find(',');
      std::string_view max_text = comma == std::string_view::npos ? std::string_view() : counts.substr(comma + 1);
      size_t min = 0;
      size_t max = 0;
      if (!counts.empty() && counts.front() != ',' && ParseRepeatCount(counts.substr(0, comma), &min) &&
          ParseRepeatCount(max_text, &max) && (min > kMaxRepeat || max > kMaxRepeat)) {
        item.Fail("match", "invalid regular expression '" + std::string(pattern) + "': repetition {" +
                               std::string(counts) + "} is above RE2's limit of 1000 (write \\{ for a literal brace)");
      }
    }
  }
}

// Compiles a `match_type: regex` pattern with RE2. Throws ConfigError naming the rule's file and
// line when RE2 refuses it (bad syntax, constructs RE2 lacks such as backreferences, a repetition
// above 1000, or a program over RE2's default memory budget).
std::shared_ptr<const re2::RE2> CompileRegex(const ConfigMap& item, const std::string& pattern) {
  CheckRepetitionCounts(item, pattern);
  RE2::Options options;
  options.set_log_errors(false);  // the error goes into the ConfigError instead of stderr
  auto regex = std::make_shared<const re2::RE2>(pattern, options);
  if (!regex->ok()) item.Fail("match", "invalid regular expression '" + pattern + "': " + regex->error());
  return regex;
}

}  // namespace

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kSummary: return "summary";
  }
  return "untyped";
}

const std::vector<double>& DefaultBuckets() {
  static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return buckets;
}

void EscapeName(std::string_view in, std::string* out) {
  size_t lead = !in.empty() && in[0] >= '0' && in[0] <= '9' ? 1 : 0;
  out->resize(in.size() + lead);
  char* dst = out->data();
  if (lead != 0) *dst++ = '_';
  for (char c : in) *dst++ = IsNameChar(c) ? c : '_';
}

SummaryOptions ParseSummaryOptions(ConfigMap map, const SummaryOptions& base) {
  SummaryOptions options = base;
  bool quantiles_given = map.Has("quantiles");  // `quantiles: []` asks for none
  std::vector<ConfigMap> quantiles = map.GetMapList("quantiles");
  if (quantiles_given) {
    options.objectives.clear();
    for (ConfigMap& item : quantiles) {
      SummaryOptions::Objective objective{};
      for (auto [key, field] : {std::pair{"quantile", &objective.quantile}, std::pair{"error", &objective.error}}) {
        if (!item.Has(key)) item.Fail(key, std::string("every quantile needs ") + key);
        *field = item.GetDouble(key, 0, 0, 1);
        if (*field <= 0 || *field >= 1) item.Fail(key, std::string(key) + " must be between 0 and 1 (exclusive)");
      }
      for (const SummaryOptions::Objective& seen : options.objectives) {
        if (seen.quantile == objective.quantile) item.Fail("quantile", "quantile listed twice");
      }
      item.CheckNoUnknownKeys();
      options.objectives.push_back(objective);
    }
    std::sort(options.objectives.begin(), options.objectives.end(),
              [](const auto& a, const auto& b) { return a.quantile < b.quantile; });
  }
  options.max_age = map.GetDuration("max_age", options.max_age);
  if (options.max_age.count() <= 0) map.Fail("max_age", "max_age must be greater than 0");
  options.age_buckets = static_cast<int>(map.GetInt("age_buckets", options.age_buckets, 1, 100));
  map.CheckNoUnknownKeys();
  return options;
}

void MappingRules::AddRules(std::vector<ConfigMap> items) {
  for (ConfigMap& item : items) {
    MappingRule rule;
    rule.match = item.GetString("match", "");
    if (rule.match.empty()) item.Fail("match", "every mapping needs a match pattern");
    std::string match_type = item.GetString("match_type", "glob");
    if (match_type == "glob") {
      rule.match_type = MappingRule::MatchType::kGlob;
      if (!IsValidGlob(rule.match)) {
        item.Fail("match", "a glob is dot-separated segments, each with at most one '*', got '" + rule.match + "'");
      }
    } else if (match_type == "regex") {
      rule.match_type = MappingRule::MatchType::kRegex;
      rule.regex = CompileRegex(item, rule.match);
    } else {
      item.Fail("match_type", "expected glob or regex, got '" + match_type + "'");
    }
    std::string source = item.GetString("match_source", "");
    if (source == "statsd") rule.match_source = SampleSource::kStatsd;
    else if (source == "native") rule.match_source = SampleSource::kNative;
    else if (!source.empty()) item.Fail("match_source", "expected statsd or native, got '" + source + "'");
    std::string kind = item.GetString("match_metric_type", "");
    if (kind == "counter") rule.match_kind = SampleKind::kCounter;
    else if (kind == "gauge") rule.match_kind = SampleKind::kGauge;
    else if (kind == "observer") rule.match_kind = SampleKind::kObserver;
    else if (kind == "timer") rule.match_kind = SampleKind::kObserver, rule.match_timer = true;
    else if (!kind.empty()) item.Fail("match_metric_type", "expected counter, gauge, observer or timer, got '" + kind + "'");
    ConfigMap tags = item.GetMap("match_tags");
    if (tags.node().IsMap()) {
      for (const auto& kv : tags.node()) {
        if (!kv.second.IsScalar()) item.Fail("match_tags", "expected tag: value pairs");
        rule.match_tags.emplace_back(kv.first.Scalar(), kv.second.Scalar());
      }
    }
    std::string action = item.GetString("action", "map");
    if (action == "drop") rule.drop = true;
    else if (action != "map") item.Fail("action", "expected map or drop, got '" + action + "'");

    rule.name = item.GetString("name", "");
    if (!rule.drop) {
      if (!IsValidNameTemplate(rule.name)) {
        item.Fail("name", "expected a metric name made of [a-zA-Z0-9_:] and $1 / ${1} / ${tag} references, got '" +
                              rule.name + "'");
      }
      if (rule.name.starts_with(kReservedPrefix)) item.Fail("name", "the prefix beam_exporter_ is reserved");
    }
    if (rule.name.find('$') == std::string::npos) EscapeName(rule.name, &rule.literal_name);
    rule.help = item.GetString("help", "");
    std::string type = item.GetString("type", "");
    if (type == "counter") rule.type = MetricType::kCounter;
    else if (type == "gauge") rule.type = MetricType::kGauge;
    else if (type == "histogram") rule.type = MetricType::kHistogram;
    else if (type == "summary") rule.type = MetricType::kSummary;
    else if (!type.empty()) item.Fail("type", "expected counter, gauge, histogram or summary, got '" + type + "'");

    ConfigMap labels = item.GetMap("labels");
    if (labels.node().IsMap()) {
      rule.has_labels = true;
      for (const auto& kv : labels.node()) {
        std::string name = kv.first.Scalar();
        if (!IsValidLabelName(name)) item.Fail("labels", "invalid label name '" + name + "'");
        if (!kv.second.IsScalar()) item.Fail("labels", "label " + name + ": expected a template string");
        rule.labels.emplace_back(name, kv.second.Scalar());
      }
      std::sort(rule.labels.begin(), rule.labels.end());
    }
    if (rule.type && *rule.type != MetricType::kCounter && rule.name.ends_with("_total")) {
      item.Fail("name", "only counters may end in _total");
    }
    rule.buckets = item.GetDoubleList("buckets", {});
    if (!rule.buckets.empty()) {
      if (!std::is_sorted(rule.buckets.begin(), rule.buckets.end()) ||
          std::adjacent_find(rule.buckets.begin(), rule.buckets.end()) != rule.buckets.end()) {
        item.Fail("buckets", "bucket bounds must be strictly increasing");
      }
      if (rule.type && *rule.type != MetricType::kHistogram) item.Fail("buckets", "buckets need type: histogram");
    }
    ConfigMap summary = item.GetMap("summary_options");
    if (summary.node().IsMap()) {
      if (rule.type != MetricType::kSummary) item.Fail("summary_options", "summary_options need type: summary");
      rule.summary = ParseSummaryOptions(summary, default_summary);
    }
    rule.scale = item.GetDouble("scale", 1, -1e12, 1e12);
    std::string unit = item.GetString("statsd_unit", "seconds");
    if (unit == "seconds") rule.statsd_unit_scale = 1;
    else if (unit == "milliseconds") rule.statsd_unit_scale = 1e-3;
    else if (unit == "microseconds") rule.statsd_unit_scale = 1e-6;
    else if (unit == "nanoseconds") rule.statsd_unit_scale = 1e-9;
    else item.Fail("statsd_unit", "expected seconds, milliseconds, microseconds or nanoseconds, got '" + unit + "'");
    if (item.Has("ttl")) rule.ttl = item.GetDuration("ttl", std::chrono::milliseconds(0));
    item.CheckNoUnknownKeys();
    rules.push_back(std::move(rule));
  }
  ShareHelpByName();
}

// Several rules often feed one metric (a native, a :datadog and a :standard form); the help text
// is written once, on one of them, and the family takes it whichever sample creates it first.
void MappingRules::ShareHelpByName() {
  for (MappingRule& rule : rules) {
    if (!rule.help.empty() || rule.literal_name.empty()) continue;
    for (const MappingRule& other : rules) {
      if (other.literal_name == rule.literal_name && !other.help.empty()) {
        rule.help = other.help;
        break;
      }
    }
  }
}

void MappingRules::AddFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ": cannot load mapping file: " + e.what());
  }
  auto source = std::make_shared<ConfigSource>();
  source->file = path;
  ConfigMap file(root, source, "");
  AddRules(file.GetMapList("mappings"));
  file.CheckNoUnknownKeys();
}

bool GlobMatch(std::string_view pattern, std::string_view name, std::vector<std::string>* captures) {
  captures->clear();
  captures->emplace_back(name);
  // Segment by segment; each pattern segment holds at most one '*' (checked when loading), so
  // matching is linear in the name's length whatever the input.
  while (true) {
    size_t pdot = pattern.find('.');
    size_t ndot = name.find('.');
    std::string_view pseg = pattern.substr(0, pdot);
    std::string_view nseg = name.substr(0, ndot);
    size_t star = pseg.find('*');
    if (star == std::string_view::npos) {
      if (pseg != nseg) return false;
    } else {
      std::string_view before = pseg.substr(0, star);
      std::string_view after = pseg.substr(star + 1);
      if (nseg.size() < before.size() + after.size() || !nseg.starts_with(before) || !nseg.ends_with(after)) {
        return false;
      }
      captures->emplace_back(nseg.substr(before.size(), nseg.size() - before.size() - after.size()));
    }
    if ((pdot == std::string_view::npos) != (ndot == std::string_view::npos)) return false;
    if (pdot == std::string_view::npos) return true;
    pattern.remove_prefix(pdot + 1);
    name.remove_prefix(ndot + 1);
  }
}

bool RegexMatch(const re2::RE2& regex, std::string_view name, std::vector<std::string>* captures) {
  re2::StringPiece text(name.data(), name.size());
  // Asked for groups, RE2 runs its submatch engine on the whole name even when nothing matches,
  // several times slower than its DFA on a name that does not match (tests/bench/telemetry/
  // mapper_regex_bench.cc); most names match few of the rules, so the DFA answers first.
  if (!regex.Match(text, 0, name.size(), RE2::UNANCHORED, nullptr, 0)) return false;
  std::vector<re2::StringPiece> groups(static_cast<size_t>(regex.NumberOfCapturingGroups()) + 1);
  if (!regex.Match(text, 0, name.size(), RE2::UNANCHORED, groups.data(), static_cast<int>(groups.size()))) {
    return false;
  }
  captures->clear();
  // A group that took no part in the match has a null data pointer.
  for (const re2::StringPiece& g : groups) captures->emplace_back(std::string_view(g.data(), g.size()));
  return true;
}

Mapper::Mapper(const MappingRules& rules, size_t cache_limit) : rules_(rules), cache_limit_(cache_limit) {
  name_.reserve(256);
  arena_.reserve(1024);
  pending_.reserve(16);
  labels_.reserve(16);
}

const std::vector<Mapper::Candidate>& Mapper::Candidates(std::string_view name) {
  if (name.size() > kMaxCachedNameLength) {
    FindCandidates(name, &uncached_);
    return uncached_;
  }
  auto it = cache_.find(name);
  if (it != cache_.end()) return it->second;
  if (cache_.size() >= cache_limit_) cache_.clear();
  std::vector<Candidate> found;
  FindCandidates(name, &found);
  return cache_.emplace(std::string(name), std::move(found)).first->second;
}

void Mapper::FindCandidates(std::string_view name, std::vector<Candidate>* found) const {
  found->clear();
  std::vector<std::string> captures;
  for (uint32_t i = 0; i < rules_.rules.size(); ++i) {
    const MappingRule& rule = rules_.rules[i];
    if (rule.match_type == MappingRule::MatchType::kGlob) {
      if (GlobMatch(rule.match, name, &captures)) found->push_back({i, captures});
    } else {
      if (RegexMatch(*rule.regex, name, &captures)) found->push_back({i, captures});
    }
  }
}

bool Mapper::Conditions(const MappingRule& rule, const Sample& sample) const {
  if (rule.match_source && *rule.match_source != sample.source) return false;
  if (rule.match_kind && *rule.match_kind != sample.kind) return false;
  if (rule.match_timer && !(sample.source == SampleSource::kStatsd && sample.in_seconds)) return false;
  for (const auto& [key, value] : rule.match_tags) {
    bool ok = false;
    for (const Tag& tag : sample.tags) ok = ok || (tag.key == key && tag.value == value);
    if (!ok) return false;
  }
  return true;
}

void Mapper::Expand(std::string_view tmpl, const std::vector<std::string>& captures, const Sample& sample) {
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '$' || i + 1 >= tmpl.size()) {
      arena_.push_back(tmpl[i]);
      continue;
    }
    std::string_view ref;
    if (tmpl[i + 1] == '{') {
      size_t close = tmpl.find('}', i);
      if (close == std::string_view::npos) {
        arena_.append(tmpl.substr(i));
        return;
      }
      ref = tmpl.substr(i + 2, close - i - 2);
      i = close;
    } else if (tmpl[i + 1] >= '0' && tmpl[i + 1] <= '9') {
      ref = tmpl.substr(i + 1, 1);
      ++i;
    } else {
      arena_.push_back('$');
      continue;
    }
    if (!ref.empty() && std::all_of(ref.begin(), ref.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      size_t n = 0;
      for (char c : ref) n = n * 10 + static_cast<size_t>(c - '0');
      if (n < captures.size()) arena_.append(captures[n]);
    } else {
      // ${name}: the value of tag `name` (the last one wins when a tag repeats).
      std::string_view value;
      for (const Tag& tag : sample.tags) {
        if (tag.key == ref) value = tag.value;
      }
      arena_.append(value);
    }
  }
}

void Mapper::FinishLabels() {
  labels_.clear();
  for (const PendingLabel& p : pending_) {
    Label l;
    l.name = p.name_offset >= 0 ? std::string_view(arena_).substr(static_cast<size_t>(p.name_offset), p.name_size)
                                : p.name;
    l.value = p.value_offset >= 0 ? std::string_view(arena_).substr(static_cast<size_t>(p.value_offset), p.value_size)
                                  : p.value;
    labels_.push_back(l);
  }
  // Sort by name; for a repeated name the last one sent wins. Insertion sort: stable, no
  // allocation, and label lists are short.
  for (size_t i = 1; i < labels_.size(); ++i) {
    Label l = labels_[i];
    size_t j = i;
    for (; j > 0 && l.name < labels_[j - 1].name; --j) labels_[j] = labels_[j - 1];
    labels_[j] = l;
  }
  size_t out = 0;
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (i + 1 < labels_.size() && labels_[i + 1].name == labels_[i].name) continue;
    labels_[out++] = labels_[i];
  }
  labels_.resize(out);
}

MapOutcome Mapper::Map(const Sample& sample, MappedSample* out) {
  arena_.clear();
  pending_.clear();
  const MappingRule* rule = nullptr;
  const std::vector<std::string>* captures = nullptr;
  for (const Candidate& c : Candidates(sample.name)) {
    if (Conditions(rules_.rules[c.rule], sample)) {
      rule = &rules_.rules[c.rule];
      captures = &c.captures;
      break;
    }
  }
  if (rule != nullptr && rule->drop) return MapOutcome::kDropped;

  MetricType type = MetricType::kHistogram;
  if (rule != nullptr && rule->type) {
    type = *rule->type;
  } else {
    type = sample.kind == SampleKind::kCounter ? MetricType::kCounter
         : sample.kind == SampleKind::kGauge   ? MetricType::kGauge
                                               : MetricType::kHistogram;
  }

  // Name.
  if (rule != nullptr && !rule->literal_name.empty()) {
    name_.assign(rule->literal_name);
  } else if (rule != nullptr) {
    Expand(rule->name, *captures, sample);
    EscapeName(arena_, &name_);
    arena_.clear();
  } else {
    EscapeName(sample.name, &name_);
  }
  if (type == MetricType::kCounter && !name_.ends_with("_total")) name_.append("_total");
  if (name_.empty() || name_ == "_total" || name_.starts_with(kReservedPrefix)) return MapOutcome::kInvalidName;

  // Labels.
  std::string_view reserved = type == MetricType::kHistogram ? "le" : type == MetricType::kSummary ? "quantile" : "";
  if (rule != nullptr && rule->has_labels) {
    for (const auto& [name, tmpl] : rule->labels) {
      if (name == reserved) continue;
      PendingLabel p;
      p.name = name;
      p.value_offset = static_cast<int64_t>(arena_.size());
      Expand(tmpl, *captures, sample);
      p.value_size = arena_.size() - static_cast<size_t>(p.value_offset);
      pending_.push_back(p);
    }
  } else {
    for (const Tag& tag : sample.tags) {
      PendingLabel p;
      p.name_offset = static_cast<int64_t>(arena_.size());
      if (!tag.key.empty() && tag.key[0] >= '0' && tag.key[0] <= '9') arena_.push_back('_');
      for (char c : tag.key) arena_.push_back(IsNameChar(c) ? c : '_');
      p.name_size = arena_.size() - static_cast<size_t>(p.name_offset);
      std::string_view key(arena_.data() + p.name_offset, p.name_size);
      if (key.starts_with("__") || key == reserved) {
        arena_.resize(static_cast<size_t>(p.name_offset));
        continue;
      }
      p.value = tag.value;
      pending_.push_back(p);
    }
  }
  FinishLabels();

  out->rule_scale = rule != nullptr ? rule->scale : 1;
  out->unit_scale = rule != nullptr && !sample.in_seconds ? rule->statsd_unit_scale : 1;
  double value = sample.value * out->rule_scale * out->unit_scale;
  out->name = name_;
  out->type = type;
  out->help = rule != nullptr ? std::string_view(rule->help) : std::string_view();
  out->buckets = rule != nullptr && !rule->buckets.empty() ? &rule->buckets : &rules_.default_buckets;
  out->summary = rule != nullptr && rule->summary ? &*rule->summary : &rules_.default_summary;
  out->ttl = rule != nullptr && rule->ttl ? *rule->ttl : rules_.default_ttl;
  out->labels = labels_;
  out->value = value;
  out->repeat = sample.kind == SampleKind::kObserver ? sample.repeat : 1;
  out->relative = sample.relative;
  return rule != nullptr ? MapOutcome::kMapped : MapOutcome::kDefault;
}

}  // namespace beam_exporter::telemetry
