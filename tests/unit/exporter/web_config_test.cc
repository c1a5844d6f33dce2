#include "exporter/web_config.h"

#include <crypt.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "exporter/config_map.h"

namespace beam_exporter {
namespace {

std::string BcryptHash(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt)) return "";
  crypt_data data{};
  return crypt_r(password.c_str(), salt, &data);
}

std::string WriteTemp(const std::string& text) {
  char path[] = "/tmp/web_config_test_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(WebConfigTest, ChecksBcryptPasswords) {
  std::string hash = BcryptHash("s3cret");
  ASSERT_EQ(hash.rfind("$2b$04$", 0), 0u) << hash;
  EXPECT_TRUE(CheckBcrypt("s3cret", hash));
  EXPECT_FALSE(CheckBcrypt("s3cre", hash));
  EXPECT_FALSE(CheckBcrypt("s3cret", "$2b$04$invalid"));
}

TEST(WebConfigTest, LoadsUsers) {
  std::string path = WriteTemp("basic_auth_users:\n  alice: " + BcryptHash("pw") + "\n");
  WebConfig c = LoadWebConfig(path);
  EXPECT_EQ(c.basic_auth_users.size(), 1u);
  EXPECT_FALSE(c.tls());
  unlink(path.c_str());
}

TEST(WebConfigTest, RejectsPlainTextPasswords) {
  std::string path = WriteTemp("basic_auth_users:\n  alice: hunter2\n");
  EXPECT_THROW(LoadWebConfig(path), ConfigError);
  unlink(path.c_str());
}

TEST(WebConfigTest, RejectsUnsupportedKeys) {
  std::string path = WriteTemp("tls_server_config:\n  client_ca_file: ca.pem\n");
  try {
    LoadWebConfig(path);
    FAIL() << "accepted an unsupported key";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key tls_server_config.client_ca_file"), std::string::npos) << e.what();
  }
  unlink(path.c_str());
}

TEST(WebConfigTest, CertWithoutKeyIsRejected) {
  std::string path = WriteTemp("tls_server_config:\n  cert_file: /etc/hostname\n");
  EXPECT_THROW(LoadWebConfig(path), ConfigError);
  unlink(path.c_str());
}

}  // namespace
}  // namespace beam_exporter
