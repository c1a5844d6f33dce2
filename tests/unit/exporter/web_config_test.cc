#include "exporter/web_config.h"

#include <gtest/gtest.h>

#include "exporter/config_map.h"
#include "tests/support/bcrypt.h"
#include "tests/support/temp_dir.h"

namespace beam_exporter {
namespace {

using testing::BcryptHash;
using testing::TempDir;

TEST(WebConfigTest, ChecksBcryptPasswords) {
  std::string hash = BcryptHash("s3cret");
  ASSERT_EQ(hash.rfind("$2b$04$", 0), 0u) << hash;
  EXPECT_TRUE(CheckBcrypt("s3cret", hash));
  EXPECT_FALSE(CheckBcrypt("s3cre", hash));
  EXPECT_FALSE(CheckBcrypt("s3cret", "$2b$04$invalid"));
}

TEST(WebConfigTest, LoadsUsers) {
  TempDir dir;
  std::string path = dir.Write("web.yml", "basic_auth_users:\n  alice: " + BcryptHash("pw") + "\n");
  WebConfig c = LoadWebConfig(path);
  EXPECT_EQ(c.basic_auth_users.size(), 1u);
  EXPECT_FALSE(c.tls());
}

TEST(WebConfigTest, RejectsPlainTextPasswords) {
  TempDir dir;
  std::string path = dir.Write("web.yml", "basic_auth_users:\n  alice: hunter2\n");
  EXPECT_THROW(LoadWebConfig(path), ConfigError);
}

TEST(WebConfigTest, RejectsUnsupportedKeys) {
  TempDir dir;
  std::string path = dir.Write("web.yml", "tls_server_config:\n  client_ca_file: ca.pem\n");
  try {
    LoadWebConfig(path);
    FAIL() << "accepted an unsupported key";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key tls_server_config.client_ca_file"), std::string::npos) << e.what();
  }
}

TEST(WebConfigTest, CertWithoutKeyIsRejected) {
  TempDir dir;
  std::string path = dir.Write("web.yml", "tls_server_config:\n  cert_file: /etc/hostname\n");
  EXPECT_THROW(LoadWebConfig(path), ConfigError);
}

}  // namespace
}  // namespace beam_exporter
