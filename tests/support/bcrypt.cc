#include "tests/support/bcrypt.h"

#include <crypt.h>

#include <stdexcept>

namespace beam_exporter::testing {

std::string BcryptHash(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt) == nullptr) {
    throw std::runtime_error("crypt_gensalt_rn cannot make a bcrypt salt");
  }
  crypt_data data{};
  const char* hash = crypt_r(password.c_str(), salt, &data);
  if (hash == nullptr || hash[0] == '*') throw std::runtime_error("crypt_r cannot make a bcrypt hash");
  return hash;
}

}  // namespace beam_exporter::testing
