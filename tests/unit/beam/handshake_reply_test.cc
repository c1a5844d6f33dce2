#include "collectors/beam/handshake_reply.h"

#include <gtest/gtest.h>

#include <string>

namespace beam_exporter::beam {
namespace {

// One handshake message as the node sends it: 2-byte big-endian length, then the message.
std::string Message(const std::string& body) {
  std::string m;
  m.push_back(static_cast<char>(body.size() >> 8));
  m.push_back(static_cast<char>(body.size() & 0xff));
  return m + body;
}

// The node's challenge: tag, flags, challenge, creation, name (the content does not matter here).
const std::string kChallenge = std::string("N").append(18, '\x01').append("app@127.0.0.1");

TEST(HandshakeReplyTest, NothingReceivedIsNeitherARefusalNorACookieMismatch) {
  HandshakeReply r = ParseHandshakeReply("");
  EXPECT_FALSE(r.got_status);
  EXPECT_FALSE(r.StatusRefused());
  EXPECT_FALSE(r.CookieMismatch());
}

TEST(HandshakeReplyTest, NokAliveAndNotAllowedAreRefusalsOfOurNameNotOfTheCookie) {
  for (const std::string status : {"nok", "alive", "not_allowed"}) {
    HandshakeReply r = ParseHandshakeReply(Message("s" + status));
    EXPECT_TRUE(r.got_status) << status;
    EXPECT_EQ(r.status, status);
    EXPECT_TRUE(r.StatusRefused()) << status;
    EXPECT_FALSE(r.CookieMismatch()) << status;
  }
}

TEST(HandshakeReplyTest, OkThenNothingIsNotACookieMismatch) {
  for (const std::string status : {"ok", "ok_simultaneous"}) {
    HandshakeReply r = ParseHandshakeReply(Message("s" + status));
    EXPECT_FALSE(r.StatusRefused()) << status;
    EXPECT_FALSE(r.CookieMismatch()) << status;
  }
}

TEST(HandshakeReplyTest, AFailureAfterTheNodesChallengeIsACookieMismatch) {
  HandshakeReply r = ParseHandshakeReply(Message("sok") + Message(kChallenge));
  EXPECT_TRUE(r.got_challenge);
  EXPECT_FALSE(r.got_ack);
  EXPECT_TRUE(r.CookieMismatch());
  std::string old_tag_challenge = kChallenge;  // the 'n' of distribution version 5
  old_tag_challenge[0] = 'n';
  HandshakeReply old_tag = ParseHandshakeReply(Message("sok") + Message(old_tag_challenge));
  EXPECT_TRUE(old_tag.CookieMismatch());
  HandshakeReply acked = ParseHandshakeReply(Message("sok") + Message(kChallenge) + Message(std::string("a").append(16, 'd')));
  EXPECT_TRUE(acked.got_ack);
  EXPECT_TRUE(acked.CookieMismatch());
}

TEST(HandshakeReplyTest, ATrailingIncompleteMessageIsIgnored) {
  std::string partial_challenge = Message(kChallenge).substr(0, 6);
  HandshakeReply r = ParseHandshakeReply(Message("sok") + partial_challenge);
  EXPECT_TRUE(r.got_status);
  EXPECT_FALSE(r.got_challenge);
  EXPECT_FALSE(ParseHandshakeReply(std::string(1, '\0')).got_status);
}

}  // namespace
}  // namespace beam_exporter::beam
