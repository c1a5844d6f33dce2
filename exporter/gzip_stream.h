// Compresses a response body as it is produced (gzip framing, zlib's deflate) and hands the
// compressed pieces to a downstream sink, so a compressed scrape also holds one chunk at a time.
//
// Thread-safety: one stream per response, used by one thread.
#pragma once

#include <zlib.h>

#include <string>
#include <string_view>

#include "exporter/exposition_writer.h"

namespace beam_exporter {

class GzipStream {
 public:
  // Level 1: exposition text compresses ~10x even at the fastest level, and a scrape is on
  // the clock (docs/benchmarks.md).
  explicit GzipStream(ExpositionWriter::Sink downstream, int level = 1);
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // Compresses `data`; returns false when the downstream sink refused output.
  bool Write(std::string_view data);
  // Writes the gzip trailer. Returns false when the downstream sink refused output.
  bool Finish();

 private:
  bool Deflate(int flush);

  ExpositionWriter::Sink downstream_;
  z_stream z_{};
  bool ok_ = true;
  std::string out_;
};

// Whether an Accept-Encoding header value accepts gzip (a "gzip" coding without q=0).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace beam_exporter
