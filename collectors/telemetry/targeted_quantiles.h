// Quantiles of a stream within a rank error chosen per quantile ("targeted quantiles": Cormode,
// Korn, Muthukrishnan and Srivastava, "Effective Computation of Biased Quantiles over Data
// Streams", ICDE 2005; the estimator Prometheus clients and statsd_exporter use for summaries).
//
// The sample is a sorted list of (value, g, delta) tuples whose size stays near
// quantile / (2 * error) * ln(n) for the tightest objective. Values are buffered and merged into
// the sample in one pass per batch, then the sample is compressed in one pass: O(sample + batch)
// per batch. prometheus-cpp's CKMSQuantiles inserts each buffered value into its vector one at a
// time, an O(sample) shift per value: 8 us per observation with 1M observations in a summary
// window of 5, which is why this one exists (see docs/benchmarks.md).
//
// Not thread-safe: the summary window that owns it is guarded by the aggregator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace beam_exporter::telemetry {

class TargetedQuantiles {
 public:
  // The quantile q is answered with a value whose rank is within error * n of q * n.
  struct Objective {
    Objective(double quantile_in, double error_in) : quantile(quantile_in), error(error_in) {}
    double quantile;
    double error;
  };

  // `objectives` must outlive the estimator and hold quantiles and errors in (0, 1).
  explicit TargetedQuantiles(const std::vector<Objective>* objectives);

  void Insert(double value);
  // NaN when nothing was inserted since the last Reset.
  double Get(double q);
  void Reset();

  // Tuples kept after the last batch (for tests of the size bound).
  size_t sample_size() const { return sample_.size(); }

 private:
  static constexpr size_t kBatch = 500;

  struct Tuple {
    double value;
    int64_t g;      // rank of this value minus rank of the previous one (lower bound)
    int64_t delta;  // uncertainty of this value's rank
  };

  // f(r, n): how much rank uncertainty the objectives allow around rank r.
  double AllowedError(double rank) const;
  void Flush();
  void Compress();

  const std::vector<Objective>* objectives_;
  int64_t count_ = 0;  // values merged into the sample
  std::vector<Tuple> sample_;
  std::vector<double> buffer_;
};

}  // namespace beam_exporter::telemetry
