#include "tests/support/gunzip.h"

#include <zlib.h>

namespace beam_exporter::testing {

std::string Gunzip(const std::string& in, bool* ok) {
  z_stream z{};
  *ok = inflateInit2(&z, 15 + 16) == Z_OK;  // 16: gzip framing
  std::string out;
  char buf[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (*ok && rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) *ok = false;
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return out;
}

}  // namespace beam_exporter::testing
