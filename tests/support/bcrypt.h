// A bcrypt hash of a password (the $2b$ form, which `htpasswd -B` also writes as $2y$) for the web
// config's basic_auth_users.
#pragma once

#include <string>

namespace beam_exporter::testing {

// Cost 4, the lowest bcrypt allows: the hash checks the same way and tests stay quick.
std::string BcryptHash(const std::string& password);

}  // namespace beam_exporter::testing
