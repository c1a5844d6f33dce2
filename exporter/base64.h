// Base64, for the Authorization header of basic auth.
#pragma once

#include <string>

namespace beam_exporter {

// Decodes standard base64. Returns false on invalid input.
bool DecodeBase64(const std::string& in, std::string* out);

}  // namespace beam_exporter
