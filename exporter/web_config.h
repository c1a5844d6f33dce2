// The web configuration file, in the exporter-toolkit format shared by Prometheus exporters:
//
//   tls_server_config: {cert_file: PATH, key_file: PATH}
//   basic_auth_users: {USER: BCRYPT_HASH, ...}
//
// Passwords are checked with libcrypt's bcrypt ($2a$, $2b$, $2y$). Other exporter-toolkit keys
// (client CA, cipher suites, http_server_config) are rejected as unsupported rather than ignored.
#pragma once

#include <map>
#include <string>

namespace beam_exporter {

struct WebConfig {
  std::string tls_cert_file;
  std::string tls_key_file;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash

  bool tls() const { return !tls_cert_file.empty(); }
};

// Throws ConfigError naming the file, key and line.
WebConfig LoadWebConfig(const std::string& path);

// True when `password` matches the bcrypt `hash`. Thread-safe.
bool CheckBcrypt(const std::string& password, const std::string& hash);

}  // namespace beam_exporter
