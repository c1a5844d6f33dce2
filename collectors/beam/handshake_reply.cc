#include "collectors/beam/handshake_reply.h"

#include <cstddef>

namespace beam_exporter::beam {

HandshakeReply ParseHandshakeReply(std::string_view received) {
  HandshakeReply reply;
  size_t at = 0;
  while (received.size() - at >= 2) {
    const size_t length = static_cast<size_t>(static_cast<unsigned char>(received[at])) << 8 |
                          static_cast<unsigned char>(received[at + 1]);
    if (length == 0 || received.size() - at - 2 < length) break;
    std::string_view message = received.substr(at + 2, length);
    switch (message.front()) {
      case 's':
        reply.got_status = true;
        reply.status = std::string(message.substr(1));
        break;
      case 'n':
      case 'N':
        reply.got_challenge = true;
        break;
      case 'a':
        reply.got_ack = true;
        break;
      default:
        break;
    }
    at += 2 + length;
  }
  return reply;
}

}  // namespace beam_exporter::beam
