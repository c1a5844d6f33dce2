// Decompression for tests that check what the exporter gzips (the reference is zlib itself).
#pragma once

#include <string>

namespace beam_exporter::testing {

// Inflates one gzip member; *ok says whether `in` was a valid, complete one.
std::string Gunzip(const std::string& in, bool* ok);

}  // namespace beam_exporter::testing
