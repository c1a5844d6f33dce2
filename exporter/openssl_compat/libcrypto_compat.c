/* civetweb also dlopen()s "libcrypto.so"; this empty library links the real libcrypto.so.3
 * so that name resolves without the development symlink (see libssl_compat.c). */
#include <openssl/crypto.h>

unsigned long beam_exporter_libcrypto_compat_version(void) { return OpenSSL_version_num(); }
