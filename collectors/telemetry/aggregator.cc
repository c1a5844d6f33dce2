#include "collectors/telemetry/aggregator.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace beam_exporter::telemetry {
namespace {

// Drop counters carry the metric name as a label; past this many names they share "_other",
// so a flood of junk names cannot grow the self-metrics without bound.
constexpr size_t kMaxDropMetricNames = 200;

std::vector<std::string> ExposedNames(const std::string& name, MetricType type) {
  if (type == MetricType::kHistogram) return {name, name + "_bucket", name + "_sum", name + "_count"};
  if (type == MetricType::kSummary) return {name, name + "_sum", name + "_count"};
  return {name};
}

prometheus::MetricType ToPrometheus(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return prometheus::MetricType::Counter;
    case MetricType::kGauge: return prometheus::MetricType::Gauge;
    case MetricType::kHistogram: return prometheus::MetricType::Histogram;
    case MetricType::kSummary: return prometheus::MetricType::Summary;
  }
  return prometheus::MetricType::Untyped;
}

}  // namespace

std::string_view DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kSeriesLimit: return "series_limit";
    case DropReason::kTypeClash: return "type_clash";
    case DropReason::kMetricLimit: return "metric_limit";
    case DropReason::kCount: break;
  }
  return "unknown";
}

Aggregator::Aggregator(Options options, size_t shards) : options_(options) {
  for (size_t i = 0; i < std::max<size_t>(shards, 1); ++i) shards_.push_back(std::unique_ptr<Shard>(new Shard(this)));
}

Aggregator::Family* Aggregator::Resolve(const MappedSample& sample, DropReason* reason) {
  MutexLock lock(&registry_mu_);
  auto it = families_.find(sample.name);
  if (it != families_.end()) {
    if (it->second->type == sample.type) return it->second.get();
    *reason = DropReason::kTypeClash;
    return nullptr;
  }
  std::string name(sample.name);
  std::vector<std::string> exposed = ExposedNames(name, sample.type);
  for (const std::string& n : exposed) {
    if (exposed_names_.count(n) != 0) {
      *reason = DropReason::kTypeClash;
      return nullptr;
    }
  }
  if (families_.size() >= options_.metric_limit) {
    *reason = DropReason::kMetricLimit;
    return nullptr;
  }
  auto family = std::make_unique<Family>();
  family->name = name;
  family->type = sample.type;
  family->help = sample.help.empty() ? "Telemetry metric " + name + " (mapped by beam_exporter)." : std::string(sample.help);
  if (sample.type == MetricType::kHistogram && sample.buckets != nullptr) family->buckets = *sample.buckets;
  if (sample.type == MetricType::kSummary && sample.summary != nullptr) {
    for (const SummaryOptions::Objective& o : sample.summary->objectives) family->objectives.emplace_back(o.quantile, o.error);
    family->summary_max_age = sample.summary->max_age;
    family->summary_age_buckets = sample.summary->age_buckets;
  }
  family->ttl = sample.ttl;
  Family* raw = family.get();
  families_.emplace(name, std::move(family));
  for (const std::string& n : exposed) exposed_names_.emplace(n, raw);
  return raw;
}

void Aggregator::Shard::CountDrop(std::string_view metric, DropReason reason) {
  std::pair<std::string, DropReason> key(std::string(metric), reason);
  auto it = drops_.find(key);
  if (it == drops_.end() && drops_.size() >= kMaxDropMetricNames) {
    key.first = "_other";
    it = drops_.find(key);
  }
  if (it == drops_.end()) it = drops_.emplace(std::move(key), 0).first;
  ++it->second;
}

bool Aggregator::Shard::Add(const MappedSample& sample, TimePoint now, SeriesHandle* handle) {
  MutexLock lock(&mu_);
  auto fit = families_.find(sample.name);
  if (fit == families_.end()) {
    DropReason reason = DropReason::kTypeClash;
    Family* family = owner_->Resolve(sample, &reason);
    if (family == nullptr && families_.size() >= owner_->options_.metric_limit * 2) {
      // Do not remember refusals without bound either.
      CountDrop(sample.name, reason);
      return false;
    }
    fit = families_.emplace(std::string(sample.name), FamilySeries{}).first;
    fit->second.family = family;
    fit->second.drop_reason = reason;
  }
  FamilySeries& fs = fit->second;
  if (fs.family == nullptr) {
    CountDrop(sample.name, fs.drop_reason);
    return false;
  }
  if (fs.family->type != sample.type) {
    CountDrop(sample.name, DropReason::kTypeClash);
    return false;
  }

  key_.clear();
  for (const Label& l : sample.labels) {
    key_.append(l.name);
    key_.push_back('\0');
    key_.append(l.value);
    key_.push_back('\0');
  }
  auto sit = fs.series.find(key_);
  if (sit == fs.series.end()) {
    if (fs.family->series.fetch_add(1) >= static_cast<int64_t>(owner_->options_.series_limit_per_metric)) {
      fs.family->series.fetch_sub(1);
      CountDrop(sample.name, DropReason::kSeriesLimit);
      return false;
    }
    Series s;
    for (const Label& l : sample.labels) s.labels.emplace_back(l.name, l.value);
    if (fs.family->type == MetricType::kHistogram) s.bucket_counts.assign(fs.family->buckets.size() + 1, 0);
    if (fs.family->type == MetricType::kSummary && !fs.family->objectives.empty()) {
      Family& family = *fs.family;
      MutexLock summaries_lock(&family.summaries_mu);
      std::shared_ptr<SummaryState>& state = family.summaries[key_];
      if (state == nullptr) {
        state = std::make_shared<SummaryState>(family.objectives, family.summary_max_age, family.summary_age_buckets, now);
      }
      s.summary = state;
    }
    sit = fs.series.emplace(key_, std::move(s)).first;
  }
  if (handle != nullptr) *handle = SeriesHandle{&sit->second, fs.family, generation_};
  Apply(&sit->second, fs.family, sample.value, sample.repeat, sample.relative, now);
  return true;
}

bool Aggregator::Shard::AddTo(const SeriesHandle& handle, double value, uint32_t repeat, bool relative, TimePoint now) {
  MutexLock lock(&mu_);
  if (handle.generation != generation_ || handle.series == nullptr) return false;
  Apply(handle.series, handle.family, value, repeat, relative, now);
  return true;
}

void Aggregator::Shard::Apply(Series* series, const Family* family, double value, uint32_t repeat, bool relative,
                              TimePoint now) {
  Series& s = *series;
  s.last_update = now;
  switch (family->type) {
    case MetricType::kCounter:
      if (value >= 0) s.value += value;
      break;
    case MetricType::kGauge:
      if (relative) {
        s.value += value;
        s.gauge_delta += value;
      } else {
        s.value = value;
        s.gauge_delta = 0;
        s.gauge_set_time = now;
      }
      break;
    case MetricType::kHistogram: {
      const std::vector<double>& bounds = family->buckets;
      size_t i = static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
      s.bucket_counts[i] += repeat;
      s.count += repeat;
      s.sum += value * repeat;
      break;
    }
    case MetricType::kSummary:
      s.count += repeat;
      s.sum += value * repeat;
      if (s.summary != nullptr) {
        MutexLock summary_lock(&s.summary->mu);
        s.summary->window.Observe(value, repeat, now);
      }
      break;
  }
}

Aggregator::Totals Aggregator::Collect(TimePoint now, std::vector<prometheus::MetricFamily>* out) {
  struct Merged {
    bool has_labels = false;
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
    double gauge_base = 0;
    TimePoint gauge_set{};
    double gauge_deltas = 0;
    bool gauge_has_set = false;
    std::vector<uint64_t> buckets;
    uint64_t count = 0;
    double sum = 0;
    std::shared_ptr<SummaryState> summary;
    TimePoint last_update{};
  };
  Totals totals;
  // Pass 1: snapshot and merge every shard (one shard lock at a time).
  std::map<std::string, std::map<std::string, Merged>> merged;  // family -> key -> merged
  std::map<std::string, Family*> family_of;
  std::vector<std::pair<std::string, std::string>> expired;  // family, key
  for (auto& shard_ptr : shards_) {
    Shard& shard = *shard_ptr;
    MutexLock lock(&shard.mu_);
    for (const auto& [reason_key, n] : shard.drops_) totals.drops[reason_key] += n;
    for (const auto& [name, fs] : shard.families_) {
      if (fs.family == nullptr) continue;
      family_of[name] = fs.family;
      auto& by_key = merged[name];
      for (const auto& [key, s] : fs.series) {
        Merged& m = by_key[key];
        m.last_update = std::max(m.last_update, s.last_update);
        switch (fs.family->type) {
          case MetricType::kCounter: m.value += s.value; break;
          case MetricType::kGauge:
            if (s.gauge_set_time != TimePoint{} && (!m.gauge_has_set || s.gauge_set_time > m.gauge_set)) {
              m.gauge_has_set = true;
              m.gauge_set = s.gauge_set_time;
              m.gauge_base = s.value - s.gauge_delta;
              m.gauge_deltas += s.gauge_delta;
            } else {
              m.gauge_deltas += s.gauge_delta;
            }
            break;
          case MetricType::kHistogram:
            if (m.buckets.empty()) m.buckets.assign(s.bucket_counts.size(), 0);
            for (size_t i = 0; i < s.bucket_counts.size() && i < m.buckets.size(); ++i) m.buckets[i] += s.bucket_counts[i];
            m.count += s.count;
            m.sum += s.sum;
            break;
          case MetricType::kSummary:
            m.count += s.count;
            m.sum += s.sum;
            if (m.summary == nullptr) m.summary = s.summary;  // every shard holds the same state
            break;
        }
        if (!m.has_labels) {
          m.has_labels = true;
          m.labels = s.labels;
        }
      }
    }
  }
  // Pass 2: expire series whose newest update (over all shards) is older than their ttl;
  // a shard copy updated since the snapshot is kept.
  for (auto& [name, by_key] : merged) {
    const Family* family = family_of[name];
    if (family->ttl.count() <= 0) continue;
    for (auto it = by_key.begin(); it != by_key.end();) {
      if (now - it->second.last_update > family->ttl) {
        expired.emplace_back(name, it->first);
        it = by_key.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!expired.empty()) {
    for (auto& shard : shards_) {
      MutexLock lock(&shard->mu_);
      for (const auto& [name, key] : expired) {
        auto fit = shard->families_.find(name);
        if (fit == shard->families_.end()) continue;
        auto sit = fit->second.series.find(key);
        if (sit == fit->second.series.end()) continue;
        if (now - sit->second.last_update > fit->second.family->ttl) {
          fit->second.series.erase(sit);
          ++shard->generation_;  // invalidates every SeriesHandle of this shard
          fit->second.family->series.fetch_sub(1);
        }
      }
    }
  }
  // A summary state goes when no shard holds its series any more. Swept over every family
  // rather than only the keys expired just now: a concurrent Collect() may have held a copy
  // at that moment. Under the family lock nobody can take a new copy from the map, so a
  // count of one is final.
  for (auto& [name, family] : family_of) {
    if (family->type != MetricType::kSummary) continue;
    MutexLock lock(&family->summaries_mu);
    for (auto it = family->summaries.begin(); it != family->summaries.end();) {
      it = it->second.use_count() == 1 ? family->summaries.erase(it) : std::next(it);
    }
  }
  // Pass 3: families in name order.
  for (const auto& [name, by_key] : merged) {
    if (by_key.empty()) continue;
    const Family* family = family_of[name];
    prometheus::MetricFamily mf;
    mf.name = name;
    mf.help = family->help;
    mf.type = ToPrometheus(family->type);
    for (const auto& [key, m] : by_key) {
      prometheus::ClientMetric cm;
      for (const auto& [ln, lv] : m.labels) cm.label.push_back({ln, lv});
      switch (family->type) {
        case MetricType::kCounter: cm.counter.value = m.value; break;
        case MetricType::kGauge: cm.gauge.value = (m.gauge_has_set ? m.gauge_base : 0) + m.gauge_deltas; break;
        case MetricType::kHistogram: {
          uint64_t cumulative = 0;
          for (size_t i = 0; i < m.buckets.size(); ++i) {
            cumulative += m.buckets[i];
            double bound = i < family->buckets.size() ? family->buckets[i] : std::numeric_limits<double>::infinity();
            cm.histogram.bucket.push_back({cumulative, bound});
          }
          cm.histogram.sample_count = m.count;
          cm.histogram.sample_sum = m.sum;
          break;
        }
        case MetricType::kSummary:
          cm.summary.sample_count = m.count;
          cm.summary.sample_sum = m.sum;
          if (m.summary != nullptr) {
            MutexLock lock(&m.summary->mu);
            for (const auto& objective : family->objectives) {
              // NaN when nothing was observed within max_age, as Prometheus client libraries do.
              cm.summary.quantile.push_back({objective.quantile, m.summary->window.Quantile(objective.quantile, now)});
            }
          }
          break;
      }
      mf.metric.push_back(std::move(cm));
      ++totals.series;
    }
    out->push_back(std::move(mf));
  }
  return totals;
}

}  // namespace beam_exporter::telemetry
