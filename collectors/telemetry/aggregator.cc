#include "collectors/telemetry/aggregator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

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
  FamilySeries* fs = nullptr;
  uint32_t slot = 0;
  if (!FindSeries(sample, now, &fs, &slot)) return false;
  if (handle != nullptr) *handle = SeriesHandle{fs, slot, fs->family, generation_};
  Apply(fs, slot, sample.value, sample.repeat, sample.relative, now);
  return true;
}

bool Aggregator::Shard::AddHistogram(const MappedSample& sample, std::span<const uint64_t> bucket_counts, double sum,
                                     TimePoint now) {
  MutexLock lock(&mu_);
  FamilySeries* fs = nullptr;
  uint32_t slot = 0;
  if (!FindSeries(sample, now, &fs, &slot)) return false;
  const std::vector<double>& bounds = fs->family->buckets;
  if (bounds.size() + 1 != bucket_counts.size() || (sample.buckets != nullptr && *sample.buckets != bounds)) {
    CountDrop(sample.name, DropReason::kBucketMismatch);
    return false;
  }
  Series& s = fs->slots[slot];
  fs->last_updates[slot] = now;
  for (size_t i = 0; i < bucket_counts.size(); ++i) {
    s.bucket_counts[i] += bucket_counts[i];
    s.count += bucket_counts[i];
  }
  s.sum += sum;
  return true;
}

bool Aggregator::Shard::FindSeries(const MappedSample& sample, TimePoint now, FamilySeries** fs_out, uint32_t* slot) {
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
  auto sit = fs.index.find(key_);
  if (sit == fs.index.end()) {
    if (fs.family->series.fetch_add(1) >= static_cast<int64_t>(owner_->options_.series_limit_per_metric)) {
      fs.family->series.fetch_sub(1);
      CountDrop(sample.name, DropReason::kSeriesLimit);
      return false;
    }
    if (owner_->series_total_.fetch_add(1) >= static_cast<int64_t>(owner_->options_.series_limit)) {
      owner_->series_total_.fetch_sub(1);
      fs.family->series.fetch_sub(1);
      CountDrop(sample.name, DropReason::kGlobalSeriesLimit);
      return false;
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
    sit = fs.index.emplace(key_, static_cast<uint32_t>(fs.slots.size())).first;
    fs.keys.push_back(sit->first);
    fs.values.push_back(0);
    fs.last_updates.push_back(TimePoint{});
    fs.slots.push_back(std::move(s));
    fs.ordered = false;
  }
  *fs_out = &fs;
  *slot = sit->second;
  return true;
}

namespace {

// Rearranges `items` so that items[i] becomes what items[from[i]] was, in place: cycle by cycle,
// one element held aside at a time (a copy of the whole family at every reorder would leave the
// heap fragmented at twice its size).
template <typename Items>
void Rearrange(Items& items, const std::vector<uint32_t>& from, std::vector<bool>& done) {
  done.assign(from.size(), false);
  for (size_t start = 0; start < from.size(); ++start) {
    if (done[start] || from[start] == start) continue;
    auto held = std::move(items[start]);
    size_t to = start;
    while (from[to] != start) {
      items[to] = std::move(items[from[to]]);
      done[to] = true;
      to = from[to];
    }
    items[to] = std::move(held);
    done[to] = true;
  }
}

}  // namespace

void Aggregator::Shard::Order(FamilySeries* fs) {
  std::vector<uint32_t> from(fs->slots.size());
  std::iota(from.begin(), from.end(), 0);
  std::sort(from.begin(), from.end(),
            [fs](uint32_t a, uint32_t b) { return fs->slots[a].label_text < fs->slots[b].label_text; });
  std::vector<bool> done;
  Rearrange(fs->values, from, done);
  Rearrange(fs->last_updates, from, done);
  Rearrange(fs->slots, from, done);
  Rearrange(fs->keys, from, done);
  size_t label_bytes = 0;
  for (const Series& s : fs->slots) label_bytes += s.label_text.size();
  auto labels = std::make_shared<std::string>();
  labels->reserve(label_bytes);
  fs->label_spans.clear();
  for (uint32_t i = 0; i < fs->slots.size(); ++i) {
    const std::string& label_text = fs->slots[i].label_text;
    fs->label_spans.emplace_back(static_cast<uint32_t>(labels->size()), static_cast<uint32_t>(label_text.size()));
    labels->append(label_text);
    fs->index.find(fs->keys[i])->second = i;
  }
  fs->labels = std::move(labels);
  fs->ordered = true;
  ++generation_;  // the series moved: every SeriesHandle of this shard is stale
}

Aggregator::FamilySeries* Aggregator::Shard::OrderedSeries(const Family& family) {
  auto fit = families_.find(family.name);
  if (fit == families_.end() || fit->second.family != &family || fit->second.slots.empty()) return nullptr;
  if (!fit->second.ordered) Order(&fit->second);
  return &fit->second;
}

void Aggregator::Shard::Remove(FamilySeries* fs, uint32_t slot) {
  const std::string_view key = fs->keys[slot];
  const auto last = static_cast<uint32_t>(fs->slots.size() - 1);
  if (slot != last) {
    fs->values[slot] = fs->values[last];
    fs->last_updates[slot] = fs->last_updates[last];
    fs->slots[slot] = std::move(fs->slots[last]);
    fs->keys[slot] = fs->keys[last];
    fs->index.find(fs->keys[slot])->second = slot;
  }
  fs->values.pop_back();
  fs->last_updates.pop_back();
  fs->slots.pop_back();
  fs->keys.pop_back();
  fs->index.erase(fs->index.find(key));
  fs->ordered = false;
  ++generation_;  // a series moved or went: every SeriesHandle of this shard is stale
}

bool Aggregator::Shard::AddTo(const SeriesHandle& handle, double value, uint32_t repeat, bool relative, TimePoint now) {
  MutexLock lock(&mu_);
  if (handle.generation != generation_ || handle.family_series == nullptr) return false;
  Apply(handle.family_series, handle.slot, value, repeat, relative, now);
  return true;
}

void Aggregator::Shard::Apply(FamilySeries* fs, uint32_t slot, double value, uint32_t repeat, bool relative,
                              TimePoint now) {
  Series& s = fs->slots[slot];
  double& total = fs->values[slot];
  fs->last_updates[slot] = now;
  switch (fs->family->type) {
    case MetricType::kCounter:
      if (value >= 0) total += value;
      break;
    case MetricType::kGauge:
      if (relative) {
        total += value;
        s.gauge_delta += value;
      } else {
        total = value;
        s.gauge_delta = 0;
        s.gauge_set_time = now;
      }
      break;
    case MetricType::kHistogram: {
      const std::vector<double>& bounds = fs->family->buckets;
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

Aggregator::Totals Aggregator::Visit(TimePoint now, const FamilyVisitor& visit, Keys keys) {
  // One shard's copy of a series, when more than one shard holds the family; taken under the
  // shard's lock. Offsets point into the arenas below, which only grow while one family is
  // gathered. Only the fields of the family's type are read.
  struct Row {
    uint32_t labels_run = 0;  // the shard run whose label text holds the label block
    uint32_t labels_at = 0, labels_size = 0, buckets_at = 0;
    uint32_t key_at = 0, key_size = 0;
    bool has_key = false;  // the key is copied for expiry candidates and for Keys::kWith
    double value = 0, gauge_delta = 0, sum = 0;
    TimePoint gauge_set_time{}, last_update{};
    uint64_t count = 0;
    SummaryState* summary = nullptr;
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
  std::vector<Shard*> holders;
  std::vector<std::shared_ptr<const std::string>> label_texts;  // per shard run
  std::string key_texts;
  std::vector<uint64_t> bucket_counts;
  std::vector<Row> rows;
  std::vector<size_t> run_ends;
  std::vector<std::shared_ptr<SummaryState>> summaries;  // keeps the windows alive while in use
  std::vector<MergedSeries> merged;
  std::vector<std::pair<Family*, std::string>> expired;
  std::vector<Family*> summary_families;
  for (Family* family : families) {
    holders.clear();
    label_texts.clear();
    key_texts.clear();
    bucket_counts.clear();
    rows.clear();
    run_ends.clear();
    summaries.clear();
    merged.clear();
    const MetricType type = family->type;
    const bool expires = family->ttl.count() > 0;
    const size_t n_buckets = type == MetricType::kHistogram ? family->buckets.size() + 1 : 0;
    auto is_expired = [&](TimePoint last_update) { return expires && now - last_update > family->ttl; };
    for (auto& shard : shards_) {
      MutexLock lock(&shard->mu_);
      if (shard->OrderedSeries(*family) != nullptr) holders.push_back(shard.get());
    }
    if (holders.empty()) continue;
    if (type == MetricType::kSummary) summary_families.push_back(family);

    if (holders.size() == 1) {
      // One copy of each series (the usual case: one reader): merged straight from the slots.
      MutexLock lock(&holders[0]->mu_);
      FamilySeries* fs = holders[0]->OrderedSeries(*family);
      if (fs == nullptr) continue;  // expired by a concurrent scrape meanwhile
      const size_t n = fs->slots.size();
      label_texts.push_back(fs->labels);
      // Reserved whole, so that the views into them stay valid while they fill.
      if (keys == Keys::kWith) {
        size_t key_bytes = 0;
        for (std::string_view key : fs->keys) key_bytes += key.size();
        key_texts.reserve(key_bytes);
      }
      bucket_counts.reserve(n * n_buckets);
      merged.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        if (is_expired(fs->last_updates[i])) {
          expired.emplace_back(family, std::string(fs->keys[i]));
          continue;
        }
        MergedSeries m;
        m.label_text = std::string_view(fs->labels->data() + fs->label_spans[i].first, fs->label_spans[i].second);
        if (keys == Keys::kWith) {
          m.key = std::string_view(key_texts.data() + key_texts.size(), fs->keys[i].size());
          key_texts.append(fs->keys[i]);
        }
        m.value = fs->values[i];
        if (type != MetricType::kCounter && type != MetricType::kGauge) {
          const Series& s = fs->slots[i];
          if (type == MetricType::kHistogram) {
            m.buckets = std::span<const uint64_t>(bucket_counts.data() + bucket_counts.size(), n_buckets);
            bucket_counts.insert(bucket_counts.end(), s.bucket_counts.begin(), s.bucket_counts.end());
          }
          m.count = s.count;
          m.sum = s.sum;
          m.summary = s.summary.get();
          if (s.summary != nullptr) summaries.push_back(s.summary);
        }
        merged.push_back(m);
      }
    } else {
      // Pass 1: each holder's series of this family, in label-block order (one lock at a time).
      for (Shard* shard : holders) {
        MutexLock lock(&shard->mu_);
        FamilySeries* fs = shard->OrderedSeries(*family);
        if (fs == nullptr) continue;
        const auto labels_run = static_cast<uint32_t>(label_texts.size());
        label_texts.push_back(fs->labels);
        for (size_t i = 0; i < fs->slots.size(); ++i) {
          const Series& s = fs->slots[i];
          Row r;
          r.labels_run = labels_run;
          r.labels_at = fs->label_spans[i].first;
          r.labels_size = fs->label_spans[i].second;
          r.value = fs->values[i];
          r.last_update = fs->last_updates[i];
          switch (type) {
            case MetricType::kCounter: break;
            case MetricType::kGauge:
              r.gauge_delta = s.gauge_delta;
              r.gauge_set_time = s.gauge_set_time;
              break;
            case MetricType::kHistogram:
              r.buckets_at = static_cast<uint32_t>(bucket_counts.size());
              bucket_counts.insert(bucket_counts.end(), s.bucket_counts.begin(), s.bucket_counts.end());
              r.count = s.count;
              r.sum = s.sum;
              break;
            case MetricType::kSummary:
              r.count = s.count;
              r.sum = s.sum;
              r.summary = s.summary.get();
              if (s.summary != nullptr) summaries.push_back(s.summary);
              break;
          }
          // A merged series expires only when every shard's copy is older than the ttl, so
          // the keys needed to remove it are among these.
          if (keys == Keys::kWith || is_expired(r.last_update)) {
            r.has_key = true;
            r.key_at = static_cast<uint32_t>(key_texts.size());
            r.key_size = static_cast<uint32_t>(fs->keys[i].size());
            key_texts.append(fs->keys[i]);
          }
          rows.push_back(r);
        }
        run_ends.push_back(rows.size());
      }
      // Pass 2: merge the shards' sorted runs; equal label blocks keep shard order (stable merge).
      auto labels_of = [&label_texts](const Row& r) {
        return std::string_view(label_texts[r.labels_run]->data() + r.labels_at, r.labels_size);
      };
      auto by_labels = [&labels_of](const Row& a, const Row& b) { return labels_of(a) < labels_of(b); };
      for (size_t i = 1; i < run_ends.size(); ++i) {
        std::inplace_merge(rows.begin(), rows.begin() + static_cast<ptrdiff_t>(run_ends[i - 1]),
                           rows.begin() + static_cast<ptrdiff_t>(run_ends[i]), by_labels);
      }
      // Pass 3: fold each series' shard copies into one; expire those whose newest update
      // (over all shards) is older than the family's ttl.
      for (size_t i = 0; i < rows.size();) {
        const Row& first = rows[i];
        const std::string_view labels = labels_of(first);
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
        for (; j < rows.size() && (j == i || labels_of(rows[j]) == labels); ++j) {
          const Row& r = rows[j];
          last_update = std::max(last_update, r.last_update);
          switch (type) {
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
        const std::string_view key =
            first.has_key ? std::string_view(key_texts.data() + first.key_at, first.key_size) : std::string_view();
        if (is_expired(last_update)) {
          expired.emplace_back(family, std::string(key));
          continue;
        }
        MergedSeries m;
        m.key = key;
        m.label_text = labels;
        m.value = type == MetricType::kGauge ? (gauge_has_set ? gauge_base : 0) + gauge_deltas : value;
        m.buckets = std::span<const uint64_t>(buckets, n_buckets);
        m.count = count;
        m.sum = sum;
        m.summary = summary;
        merged.push_back(m);
      }
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
        auto sit = fit->second.index.find(key);
        if (sit == fit->second.index.end()) continue;
        if (now - fit->second.last_updates[sit->second] > family->ttl) {
          shard->Remove(&fit->second, sit->second);
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
  }, Keys::kWith);
}

}  // namespace beam_exporter::telemetry
