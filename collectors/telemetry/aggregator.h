// The series store. Every writer (reader thread) owns one Shard and updates it under that
// shard's own lock, which only a scrape ever contends for. A scrape (Stream) merges the shards
// family by family (counters and histograms sum, gauges take the latest absolute value plus
// relative changes) and writes each family's text before it looks at the next, so its memory
// is bounded by the largest family (itself bounded by the per-metric series limit), not by
// the number of series. Each series keeps its label block rendered once, at creation, and
// each shard keeps its series of a family side by side in label order until one is added or
// removed, so a scrape in the steady state reads them front to back, merges and writes, but
// neither sorts nor escapes. Metric families are registered once, globally, so a name or type clash
// between sources is caught on first sight and the clashing samples are dropped and counted
// instead of breaking /metrics. Each family has a series cap; series expire after their ttl.
// Time is injected (`now` arguments), so tests drive expiry with a fake clock.
//
// Summaries: a series' quantile window cannot be merged from per-shard parts, so all shards
// share one SummaryState per label set (found through the family under its own lock when a
// shard first sees the series). Each state has its own lock, taken by the observing reader and
// by Collect(); readers only meet on it when they observe the very same series.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "collectors/telemetry/mapper.h"
#include "collectors/telemetry/string_hash.h"
#include "collectors/telemetry/summary_window.h"
#include "exporter/exposition_writer.h"
#include "exporter/mutex.h"
#include "exporter/thread_annotations.h"

namespace beam_exporter::telemetry {

enum class DropReason : uint8_t {
  kSeriesLimit,
  kTypeClash,
  kMetricLimit,
  kGlobalSeriesLimit,
  kBucketMismatch,  // histogram counts for other bucket bounds than the family's
  kCount
};
std::string_view DropReasonName(DropReason reason);

class Aggregator {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct Options {
    size_t series_limit_per_metric = 10000;
    size_t metric_limit = 2000;  // distinct metric families
    // Series over all families (shard copies count, as for the per-metric limit): the memory
    // budget. The default keeps the sidecar inside its 128 MiB limit (docs/operations.md).
    size_t series_limit = 100000;
  };

  // The quantile window of one summary series, shared by every shard that holds the series.
  struct SummaryState {
    SummaryState(const SummaryWindow::Objectives& objectives, std::chrono::milliseconds max_age, int age_buckets,
                 TimePoint now)
        : window(objectives, max_age, age_buckets, now) {}
    Mutex mu;
    SummaryWindow window GUARDED_BY(mu);
  };

  // A registered metric family; immutable except the series count and the summary states.
  struct Family {
    std::string name;
    MetricType type;
    std::string help;
    std::vector<double> buckets;  // histograms
    // Summaries (empty objectives: _sum and _count only). The windows refer to `objectives`,
    // which never changes after registration (families are never removed).
    SummaryWindow::Objectives objectives;
    std::chrono::milliseconds summary_max_age{0};
    int summary_age_buckets = 1;
    std::chrono::milliseconds ttl;
    std::atomic<int64_t> series{0};  // across shards (a label set seen by two shards counts twice)
    // Series key -> the state the shards share. An entry goes when no shard holds it any more.
    Mutex summaries_mu;
    StringMap<std::shared_ptr<SummaryState>> summaries GUARDED_BY(summaries_mu);
  };

 private:
  // A series' state apart from its value and last update (FamilySeries keeps those).
  struct Series {
    double gauge_delta = 0;               // gauge: relative changes since the last absolute set
    TimePoint gauge_set_time{};           // gauge: time of the last absolute set (epoch: never)
    uint64_t count = 0;                   // histogram / summary
    double sum = 0;
    std::vector<uint64_t> bucket_counts;  // histogram, per bound plus +Inf, not cumulative
    std::shared_ptr<SummaryState> summary;  // summary with quantiles
    std::string label_text;               // the rendered label block, {name="value",...} or empty
  };

  // One family's series in one shard, in slots: slot i is values[i], last_updates[i] and
  // slots[i]. The first scrape after a series came or went puts the slots in label-block
  // order, so that a scrape reads them front to back, at memory bandwidth (one heap node per
  // series made a scrape of 100k series wait on memory latency), and the values and update
  // times apart, so that a scrape of counters reads 16 bytes a series. The order is that of
  // the rendered blocks, not of the keys: a scrape merges the shards without reading the keys
  // (a block names its labels as uniquely as a key does).
  struct FamilySeries {
    Family* family = nullptr;  // nullptr: refused (drop_reason)
    DropReason drop_reason = DropReason::kTypeClash;
    StringMap<uint32_t> index;  // series key -> its slot
    std::vector<double> values;  // counter total; gauge shard-local value
    std::vector<TimePoint> last_updates;
    std::deque<Series> slots;  // a deque: growing neither moves the series nor leaves half a vector spare
    std::vector<std::string_view> keys;  // the key of each slot, a view into `index`
    // When `ordered`: slot i's label block is labels->substr(label_spans[i]). Immutable, so a
    // scrape may keep using it after the shard lock is released and a later Order() replaced it.
    std::shared_ptr<const std::string> labels;
    std::vector<std::pair<uint32_t, uint32_t>> label_spans;  // offset, size
    bool ordered = false;
  };

 public:
  // Where a sample landed, so the next sample of the same series skips the lookups. Valid
  // until the shard moves or removes any series (its generation changes).
  struct SeriesHandle {
    FamilySeries* family_series = nullptr;  // nullptr: no series
    uint32_t slot = 0;
    const Family* family = nullptr;
    uint64_t generation = 0;
  };

  class Shard {
   public:
    // Applies one mapped sample; fills *handle when given. Returns false when it was dropped
    // (and counted).
    bool Add(const MappedSample& sample, TimePoint now, SeriesHandle* handle = nullptr);
    // Applies a value to the series of `handle`. Returns false (and does nothing) when the
    // handle is stale: the caller then goes through Add().
    bool AddTo(const SeriesHandle& handle, double value, uint32_t repeat, bool relative, TimePoint now);
    // Adds observations counted elsewhere to a histogram series (`sample` names it; its value
    // is unused): one count per bucket of the family plus +Inf, and their sum. Returns false
    // when dropped (and counted), e.g. for counts of other bounds than the family's.
    bool AddHistogram(const MappedSample& sample, std::span<const uint64_t> bucket_counts, double sum, TimePoint now);

   private:
    friend class Aggregator;
    explicit Shard(Aggregator* owner) : owner_(owner) {}
    void CountDrop(std::string_view metric, DropReason reason) REQUIRES(mu_);
    // The series `sample` belongs to, created if need be: its family's series and slot; false
    // when dropped (and counted).
    bool FindSeries(const MappedSample& sample, TimePoint now, FamilySeries** fs, uint32_t* slot) REQUIRES(mu_);
    // Puts the slots of `fs` in label-block order and renders fs->labels (see FamilySeries).
    void Order(FamilySeries* fs) REQUIRES(mu_);
    // The series of `family` in this shard, ordered; nullptr when it holds none.
    FamilySeries* OrderedSeries(const Family& family) REQUIRES(mu_);
    // Removes the series in `slot` (the last slot moves into its place).
    void Remove(FamilySeries* fs, uint32_t slot) REQUIRES(mu_);
    void Apply(FamilySeries* fs, uint32_t slot, double value, uint32_t repeat, bool relative, TimePoint now)
        REQUIRES(mu_);

    Aggregator* owner_;
    Mutex mu_;
    StringMap<FamilySeries> families_ GUARDED_BY(mu_);
    std::map<std::pair<std::string, DropReason>, uint64_t> drops_ GUARDED_BY(mu_);
    std::string key_ GUARDED_BY(mu_);  // scratch: the series key
    uint64_t generation_ GUARDED_BY(mu_) = 0;
  };

  Aggregator(Options options, size_t shards);
  Aggregator(const Aggregator&) = delete;
  Aggregator& operator=(const Aggregator&) = delete;

  size_t shard_count() const { return shards_.size(); }
  Shard& shard(size_t i) { return *shards_[i]; }

  struct Totals {
    uint64_t series = 0;
    std::map<std::pair<std::string, DropReason>, uint64_t> drops;
  };
  // One series merged over all shards, as a scrape sees it; the views live during the visit.
  struct MergedSeries {
    std::string_view key;         // label names and values, each followed by '\0' (Keys::kWith only)
    std::string_view label_text;  // rendered label block
    double value = 0;             // counter total, gauge value
    std::span<const uint64_t> buckets;  // histogram: per bound plus +Inf, not cumulative
    uint64_t count = 0;                 // histogram / summary
    double sum = 0;
    SummaryState* summary = nullptr;  // summary with quantiles
  };
  using FamilyVisitor = std::function<void(const Family&, std::span<const MergedSeries>)>;

  // Removes expired series and hands every family that has series, in name order, to `visit`.
  // The series' keys are copied out only when asked for (Keys::kWith): a scrape needs none.
  enum class Keys { kWithout, kWith };
  Totals Visit(TimePoint now, const FamilyVisitor& visit, Keys keys = Keys::kWithout);
  // Visit() writing the text of each family into *out.
  Totals Stream(TimePoint now, ExpositionWriter* out);
  // Visit() appending each family to *out as a MetricFamily: the structured view, for tests.
  Totals Collect(TimePoint now, std::vector<prometheus::MetricFamily>* out);

 private:
  // Returns the family for `sample`, registering it on first sight; nullptr with *reason set
  // when it clashes with a registered family or the family limit is reached.
  Family* Resolve(const MappedSample& sample, DropReason* reason);

  Options options_;
  std::atomic<int64_t> series_total_{0};  // over all families and shards
  std::vector<std::unique_ptr<Shard>> shards_;
  Mutex registry_mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_ GUARDED_BY(registry_mu_);
  // Every name a family puts on /metrics (x, x_bucket, x_sum, x_count) -> its family.
  std::map<std::string, Family*, std::less<>> exposed_names_ GUARDED_BY(registry_mu_);
};

}  // namespace beam_exporter::telemetry
