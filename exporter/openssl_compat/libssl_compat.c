/* Debian 12's civetweb 1.15 loads OpenSSL at run time with dlopen("libssl.so") and looks up
 * SSL_get_peer_certificate, which OpenSSL 3 no longer exports (it is a macro for
 * SSL_get1_peer_certificate). The missing pointer is called for every TLS connection and
 * crashes the worker. This library is what civetweb finds under the name "libssl.so" (through
 * beam_exporter's RPATH): it links the real libssl.so.3, so every other symbol resolves to it,
 * and adds the one that is missing. */
#include <openssl/ssl.h>

/* ssl.h maps the old name to the new one with a macro; we need the old name as a symbol. */
#undef SSL_get_peer_certificate
X509* SSL_get_peer_certificate(const SSL* ssl);
X509* SSL_get_peer_certificate(const SSL* ssl) { return SSL_get1_peer_certificate(ssl); }
