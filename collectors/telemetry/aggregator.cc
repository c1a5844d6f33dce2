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
    case DropReason::kGlobalSeriesLimit: return "global_series_limit";
    case DropReason::kBucketMismatch: return "bucket_mismatch";
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
  const Family* family = nullptr;
  Series* series = FindSeries(sample, now, &family);
  if (series == nullptr) return false;
  if (handle != nullptr) *handle = SeriesHandle{series, family, generation_};
  Apply(series, family, sample.value, sample.repeat, sample.relative, now);
  return true;
}

bool Aggregator::Shard::AddHistogram(const MappedSample& sample, std::span<const uint64_t> bucket_counts, double sum,
                                     TimePoint now) {
  MutexLock lock(&mu_);
  const Family* family = nullptr;
  Series* series = FindSeries(sample, now, &family);
  if (series == nullptr) return false;
  if (family->buckets.size() + 1 != bucket_counts.size() ||
      (sample.buckets != nullptr && *sample.buckets != family->buckets)) {
    CountDrop(sample.name, DropReason::kBucketMismatch);
    return false;
  }
  series->last_update = now;
  for (size_t i = 0; i < bucket_counts.size(); ++i) {
    series->bucket_counts[i] += bucket_counts[i];
    series->count += bucket_counts[i];
  }
  series->sum += sum;
  return true;
}

Aggregator::Series* Aggregator::Shard::FindSeries(const MappedSample& sample, TimePoint now, const Family** family_out) {
  auto fit = families_.find(sample.name);
  if (fit == families_.end()) {
    DropReason reason = DropReason::kTypeClash;
    Family* family = owner_->Resolve(sample, &reason);
    if (family == nullptr && families_.size() >= owner_->options_.metric_limit * 2) {
      // Do not remember refusals without bound either.
      CountDrop(sample.name, reason);
      return nullptr;
    }
    fit = families_.emplace(std::string(sample.name), FamilySeries{}).first;
    fit->second.family = family;
    fit->second.drop_reason = reason;
  }
  FamilySeries& fs = fit->second;
  if (fs.family == nullptr) {
    CountDrop(sample.name, fs.drop_reason);
    return nullptr;
  }
  if (fs.family->type != sample.type) {
    CountDrop(sample.name, DropReason::kTypeClash);
    return nullptr;
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
      return nullptr;
    }
    if (owner_->series_total_.fetch_add(1) >= static_cast<int64_t>(owner_->options_.series_limit)) {
      owner_->series_total_.fetch_sub(1);
      fs.family->series.fetch_sub(1);
      CountDrop(sample.name, DropReason::kGlobalSeriesLimit);
      return nullptr;
    }
    Series s;
    for (const Label& l : sample.labels) AppendLabel(l.name, l.value, &s.label_text);
    if (!s.label_text.empty()) s.label_text.push_back('}');
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
    fs.sorted_valid = false;
  }
  *family_out = fs.family;
  return &sit->second;
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

Aggregator::Totals Aggregator::Visit(TimePoint now, const FamilyVisitor& visit) {
  // One shard's copy of a series, taken under the shard's lock; offsets point into the
  // arenas below, which only grow while one family is gathered.
  struct Row {
    uint32_t key_at, key_size, labels_at, labels_size, buckets_at;
    double value, gauge_delta, sum;
    TimePoint gauge_set_time, last_update;
    uint64_t count;
    SummaryState* summary;
  };
  Totals totals;
  for (auto& shard : shards_) {
    MutexLock lock(&shard->mu_);
    for (const auto& [reason_key, n] : shard->drops_) totals.drops[reason_key] += n;
  }
  std::vector<Family*> families;
  {
    MutexLock lock(&registry_mu_);
    families.reserve(families_.size());
    for (auto& [name, family] : families_) families.push_back(family.get());
  }
  // Scratch reused from family to family: the scrape's memory is that of the largest family.
  std::string text;
  std::vector<uint64_t> bucket_counts;
  std::vector<Row> rows;
  std::vector<size_t> run_ends;
  std::vector<std::shared_ptr<SummaryState>> summaries;  // keeps the windows alive while in use
  std::vector<MergedSeries> merged;
  std::vector<std::pair<Family*, std::string>> expired;
  std::vector<Family*> summary_families;
  for (Family* family : families) {
    text.clear();
    bucket_counts.clear();
    rows.clear();
    run_ends.clear();
    summaries.clear();
    merged.clear();
    // Pass 1: each shard's series of this family, in key order (one shard lock at a time).
    for (auto& shard : shards_) {
      MutexLock lock(&shard->mu_);
      auto fit = shard->families_.find(family->name);
      if (fit == shard->families_.end() || fit->second.family != family) continue;
      Shard::FamilySeries& fs = fit->second;
      if (!fs.sorted_valid) {
        fs.sorted.clear();
        fs.sorted.reserve(fs.series.size());
        for (const auto& [key, series] : fs.series) fs.sorted.push_back({key, series.label_text, &series});
        std::sort(fs.sorted.begin(), fs.sorted.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
        fs.sorted_valid = true;
      }
      const size_t n = fs.sorted.size();
      for (size_t i = 0; i < n; ++i) {
        // The series are spread over the heap in creation order, not key order: fetch ahead.
        constexpr size_t kAhead = 24;
        if (i + kAhead < n) {
          const Shard::FamilySeries::SortedSeries& next = fs.sorted[i + kAhead];
          // A Series spans two cache lines or three; fetch them all.
          const char* series_bytes = reinterpret_cast<const char*>(next.series);
          for (size_t line = 0; line < sizeof(Series); line += 64) __builtin_prefetch(series_bytes + line);
          __builtin_prefetch(series_bytes + sizeof(Series) - 1);
          __builtin_prefetch(next.key.data());
          __builtin_prefetch(next.label_text.data());
        }
        const Shard::FamilySeries::SortedSeries& entry = fs.sorted[i];
        const Series* s = entry.series;
        Row r;
        r.key_at = static_cast<uint32_t>(text.size());
        r.key_size = static_cast<uint32_t>(entry.key.size());
        text.append(entry.key);
        r.labels_at = static_cast<uint32_t>(text.size());
        r.labels_size = static_cast<uint32_t>(entry.label_text.size());
        text.append(entry.label_text);
        r.buckets_at = static_cast<uint32_t>(bucket_counts.size());
        bucket_counts.insert(bucket_counts.end(), s->bucket_counts.begin(), s->bucket_counts.end());
        r.value = s->value;
        r.gauge_delta = s->gauge_delta;
        r.sum = s->sum;
        r.gauge_set_time = s->gauge_set_time;
        r.last_update = s->last_update;
        r.count = s->count;
        r.summary = s->summary.get();
        if (s->summary != nullptr) summaries.push_back(s->summary);
        rows.push_back(r);
      }
      run_ends.push_back(rows.size());
    }
    if (rows.empty()) continue;
    if (family->type == MetricType::kSummary) summary_families.push_back(family);
    // Pass 2: merge the shards' sorted runs; equal keys keep shard order (stable merge).
    auto key_of = [&text](const Row& r) { return std::string_view(text.data() + r.key_at, r.key_size); };
    auto by_key = [&key_of](const Row& a, const Row& b) { return key_of(a) < key_of(b); };
    for (size_t i = 1; i < run_ends.size(); ++i) {
      std::inplace_merge(rows.begin(), rows.begin() + static_cast<ptrdiff_t>(run_ends[i - 1]),
                         rows.begin() + static_cast<ptrdiff_t>(run_ends[i]), by_key);
    }
    // Pass 3: fold each key's shard copies into one series; expire those whose newest update
    // (over all shards) is older than the family's ttl.
    const size_t n_buckets = family->type == MetricType::kHistogram ? family->buckets.size() + 1 : 0;
    const bool one_shard = run_ends.size() == 1;  // keys are unique: no copies to fold
    for (size_t i = 0; i < rows.size();) {
      const Row& first = rows[i];
      const std::string_view key = key_of(first);
      TimePoint last_update = first.last_update;
      double value = 0;
      double gauge_base = 0;
      double gauge_deltas = 0;
      TimePoint gauge_set{};
      bool gauge_has_set = false;
      uint64_t count = 0;
      double sum = 0;
      SummaryState* summary = nullptr;
      uint64_t* buckets = bucket_counts.data() + first.buckets_at;
      size_t j = i;
      for (; j < rows.size() && (j == i || (!one_shard && key_of(rows[j]) == key)); ++j) {
        const Row& r = rows[j];
        last_update = std::max(last_update, r.last_update);
        switch (family->type) {
          case MetricType::kCounter: value += r.value; break;
          case MetricType::kGauge:
            if (r.gauge_set_time != TimePoint{} && (!gauge_has_set || r.gauge_set_time > gauge_set)) {
              gauge_has_set = true;
              gauge_set = r.gauge_set_time;
              gauge_base = r.value - r.gauge_delta;
            }
            gauge_deltas += r.gauge_delta;
            break;
          case MetricType::kHistogram:
            if (j != i) {
              for (size_t b = 0; b < n_buckets; ++b) buckets[b] += bucket_counts[r.buckets_at + b];
            }
            count += r.count;
            sum += r.sum;
            break;
          case MetricType::kSummary:
            count += r.count;
            sum += r.sum;
            if (summary == nullptr) summary = r.summary;  // every shard holds the same state
            break;
        }
      }
      i = j;
      if (family->ttl.count() > 0 && now - last_update > family->ttl) {
        expired.emplace_back(family, std::string(key));
        continue;
      }
      MergedSeries m;
      m.key = key;
      m.label_text = std::string_view(text.data() + first.labels_at, first.labels_size);
      m.value = family->type == MetricType::kGauge ? (gauge_has_set ? gauge_base : 0) + gauge_deltas : value;
      m.buckets = std::span<const uint64_t>(buckets, n_buckets);
      m.count = count;
      m.sum = sum;
      m.summary = summary;
      merged.push_back(m);
    }
    if (merged.empty()) continue;
    totals.series += merged.size();
    visit(*family, merged);
  }
  // Expired series go from every shard that still holds them un-updated; a copy updated since
  // the snapshot is kept.
  if (!expired.empty()) {
    for (auto& shard : shards_) {
      MutexLock lock(&shard->mu_);
      for (const auto& [family, key] : expired) {
        auto fit = shard->families_.find(family->name);
        if (fit == shard->families_.end()) continue;
        auto sit = fit->second.series.find(key);
        if (sit == fit->second.series.end()) continue;
        if (now - sit->second.last_update > family->ttl) {
          fit->second.series.erase(sit);
          fit->second.sorted_valid = false;
          ++shard->generation_;  // invalidates every SeriesHandle of this shard
          family->series.fetch_sub(1);
          series_total_.fetch_sub(1);
        }
      }
    }
  }
  // A summary state goes when no shard holds its series any more. Swept over every family
  // rather than only the keys expired just now: a concurrent scrape may have held a copy at
  // that moment. Under the family lock nobody can take a new copy from the map, so a count of
  // one is final.
  summaries.clear();
  for (Family* family : summary_families) {
    MutexLock lock(&family->summaries_mu);
    for (auto it = family->summaries.begin(); it != family->summaries.end();) {
      it = it->second.use_count() == 1 ? family->summaries.erase(it) : std::next(it);
    }
  }
  return totals;
}

Aggregator::Totals Aggregator::Stream(TimePoint now, ExpositionWriter* out) {
  return Visit(now, [out, now](const Family& family, std::span<const MergedSeries> series) {
    const std::string& name = family.name;
    out->FamilyHeader(name, family.help, ToPrometheus(family.type));
    // le="<bound>" once per family rather than a number formatted on every bucket line.
    std::vector<std::string> le;
    if (family.type == MetricType::kHistogram) {
      for (size_t i = 0; i <= family.buckets.size(); ++i) {
        std::string text = "le=\"";
        AppendDouble(i < family.buckets.size() ? family.buckets[i] : std::numeric_limits<double>::infinity(), &text);
        le.push_back(text + "\"");
      }
    }
    for (const MergedSeries& m : series) {
      switch (family.type) {
        case MetricType::kCounter:
        case MetricType::kGauge: out->Sample(name, "", m.label_text, m.value); break;
        case MetricType::kHistogram: {
          out->Sample(name, "_count", m.label_text, m.count);
          out->Sample(name, "_sum", m.label_text, m.sum);
          uint64_t cumulative = 0;
          for (size_t i = 0; i < m.buckets.size() && i < le.size(); ++i) {
            cumulative += m.buckets[i];
            out->SampleWithRenderedLabel(name, "_bucket", m.label_text, le[i], cumulative);
          }
          break;
        }
        case MetricType::kSummary:
          out->Sample(name, "_count", m.label_text, m.count);
          out->Sample(name, "_sum", m.label_text, m.sum);
          if (m.summary != nullptr) {
            MutexLock lock(&m.summary->mu);
            for (const auto& objective : family.objectives) {
              // NaN when nothing was observed within max_age, as Prometheus client libraries do.
              out->SampleWithLabel(name, "", m.label_text, "quantile", objective.quantile,
                                   m.summary->window.Quantile(objective.quantile, now));
            }
          }
          break;
      }
    }
  });
}

Aggregator::Totals Aggregator::Collect(TimePoint now, std::vector<prometheus::MetricFamily>* out) {
  return Visit(now, [out, now](const Family& family, std::span<const MergedSeries> series) {
    prometheus::MetricFamily mf;
    mf.name = family.name;
    mf.help = family.help;
    mf.type = ToPrometheus(family.type);
    for (const MergedSeries& m : series) {
      prometheus::ClientMetric cm;
      // The key is name\0value\0...; label values with a '\0' would split here (tests only).
      for (size_t at = 0; at < m.key.size();) {
        size_t name_end = m.key.find('\0', at);
        size_t value_end = m.key.find('\0', name_end + 1);
        cm.label.push_back({std::string(m.key.substr(at, name_end - at)),
                            std::string(m.key.substr(name_end + 1, value_end - name_end - 1))});
        at = value_end + 1;
      }
      switch (family.type) {
        case MetricType::kCounter: cm.counter.value = m.value; break;
        case MetricType::kGauge: cm.gauge.value = m.value; break;
        case MetricType::kHistogram: {
          uint64_t cumulative = 0;
          for (size_t i = 0; i < m.buckets.size(); ++i) {
            cumulative += m.buckets[i];
            double bound = i < family.buckets.size() ? family.buckets[i] : std::numeric_limits<double>::infinity();
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
            for (const auto& objective : family.objectives) {
              cm.summary.quantile.push_back({objective.quantile, m.summary->window.Quantile(objective.quantile, now)});
            }
          }
          break;
      }
      mf.metric.push_back(std::move(cm));
    }
    out->push_back(std::move(mf));
  });
}

}  // namespace beam_exporter::telemetry
