#include "exporter/status.h"

namespace beam_exporter {

std::string Status::ToString() const {
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "invalid argument: " + message_;
    case Code::kUnavailable: return "unavailable: " + message_;
    case Code::kDeadlineExceeded: return "deadline exceeded: " + message_;
    case Code::kResourceExhausted: return "resource exhausted: " + message_;
    case Code::kInternal: return "internal: " + message_;
  }
  return message_;
}

}  // namespace beam_exporter
