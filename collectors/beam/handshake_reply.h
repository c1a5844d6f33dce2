// What the node sent during a distribution handshake that failed, read back from the bytes ei
// received. ei reports every failed handshake step as EIO (and ETIMEDOUT when a step ran out of
// time): a node that refused our name, one that closed the connection, and one that rejected our
// cookie all look the same to the caller. The node's side of the handshake tells them apart:
//   's' status   the node's answer to our name: "ok", "ok_simultaneous", or a refusal
//                ("nok", "alive", "not_allowed")
//   'n' / 'N'    the node's challenge (status was ok)
//   'a'          the node's acknowledgement: its digest of our challenge
// Each handshake message is a 2-byte big-endian length and the message.
#pragma once

#include <string>
#include <string_view>

namespace beam_exporter::beam {

struct HandshakeReply {
  bool got_status = false;
  std::string status;          // when got_status
  bool got_challenge = false;  // the node accepted our name and sent its challenge
  bool got_ack = false;        // the node accepted our digest and sent its own

  // The node answered our name with something other than ok.
  bool StatusRefused() const { return got_status && status != "ok" && status != "ok_simultaneous"; }
  // The handshake broke after the node challenged us: it rejected our digest (and closed), or
  // its own digest did not match our cookie. Either way the cookies differ.
  bool CookieMismatch() const { return got_challenge; }
};

// Reads the complete messages in `received` (everything ei read from the node during the
// handshake, in order); a trailing incomplete message is ignored.
HandshakeReply ParseHandshakeReply(std::string_view received);

}  // namespace beam_exporter::beam
