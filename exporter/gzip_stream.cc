#include "exporter/gzip_stream.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace beam_exporter {
namespace {

constexpr size_t kOutputBytes = 64 * 1024;
constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip header and trailer

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

GzipStream::GzipStream(ExpositionWriter::Sink downstream, int level) : downstream_(std::move(downstream)) {
  if (deflateInit2(&z_, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("zlib deflateInit2 failed");
  }
  out_.resize(kOutputBytes);
}

GzipStream::~GzipStream() { deflateEnd(&z_); }

bool GzipStream::Deflate(int flush) {
  int rc;
  do {
    z_.next_out = reinterpret_cast<Bytef*>(out_.data());
    z_.avail_out = static_cast<uInt>(out_.size());
    rc = deflate(&z_, flush);
    const size_t produced = out_.size() - z_.avail_out;
    if (produced > 0 && ok_) ok_ = downstream_(std::string_view(out_.data(), produced));
    if (rc == Z_STREAM_ERROR) return ok_ = false;
  } while (z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  return ok_;
}

bool GzipStream::Write(std::string_view data) {
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z_.avail_in = static_cast<uInt>(data.size());
  return Deflate(Z_NO_FLUSH);
}

bool GzipStream::Finish() {
  z_.next_in = nullptr;
  z_.avail_in = 0;
  return Deflate(Z_FINISH);
}

bool AcceptsGzip(std::string_view accept_encoding) {
  while (!accept_encoding.empty()) {
    size_t comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    size_t semicolon = item.find(';');
    std::string_view coding = Trim(item.substr(0, semicolon));
    if (!EqualsIgnoreCase(coding, "gzip") && !EqualsIgnoreCase(coding, "x-gzip")) continue;
    if (semicolon == std::string_view::npos) return true;
    std::string_view param = Trim(item.substr(semicolon + 1));
    if (param.size() < 2 || std::tolower(static_cast<unsigned char>(param[0])) != 'q' || param[1] != '=') return true;
    return std::strtod(std::string(param.substr(2)).c_str(), nullptr) > 0;
  }
  return false;
}

}  // namespace beam_exporter
