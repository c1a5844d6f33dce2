#include "exporter/web_config.h"

#include <crypt.h>

#include <cstring>
#include <fstream>
#include <memory>

#include "exporter/config_map.h"

namespace beam_exporter {

WebConfig LoadWebConfig(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(path + ": cannot read the web configuration file");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  auto source = std::make_shared<ConfigSource>();
  source->file = path;
  ConfigMap top(root.IsNull() ? YAML::Node(YAML::NodeType::Map) : root, source, "");
  WebConfig out;
  ConfigMap tls = top.GetMap("tls_server_config");
  out.tls_cert_file = tls.GetString("cert_file", "");
  out.tls_key_file = tls.GetString("key_file", "");
  if (out.tls_cert_file.empty() != out.tls_key_file.empty()) {
    tls.Fail(out.tls_cert_file.empty() ? "cert_file" : "key_file", "cert_file and key_file must be given together");
  }
  for (const auto& [key, file] : {std::pair<const char*, std::string>{"cert_file", out.tls_cert_file},
                                   std::pair<const char*, std::string>{"key_file", out.tls_key_file}}) {
    if (!file.empty() && !std::ifstream(file)) tls.Fail(key, "cannot read " + file);
  }
  tls.CheckNoUnknownKeys();
  if (top.Has("basic_auth_users")) {
    ConfigMap users = top.GetMap("basic_auth_users");
    for (const auto& kv : users.node()) {
      const std::string user = kv.first.Scalar();
      const std::string hash = users.GetString(user, "");
      if (hash.rfind("$2a$", 0) != 0 && hash.rfind("$2b$", 0) != 0 && hash.rfind("$2y$", 0) != 0) {
        users.Fail(user, "expected a bcrypt hash ($2a$, $2b$ or $2y$)");
      }
      out.basic_auth_users[user] = hash;
    }
    users.CheckNoUnknownKeys();
  }
  top.CheckNoUnknownKeys();
  return out;
}

bool CheckBcrypt(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* result = crypt_r(password.c_str(), hash.c_str(), data.get());
  if (result == nullptr || result[0] == '*') return false;
  const size_t n = std::strlen(result);
  if (n != hash.size()) return false;
  // Constant-time comparison: do not leak how many leading characters matched.
  unsigned char diff = 0;
  for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(result[i] ^ hash[i]);
  return diff == 0;
}

}  // namespace beam_exporter
