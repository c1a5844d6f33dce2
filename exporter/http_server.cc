#include "exporter/http_server.h"

#include <CivetServer.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string_view>
#include <cmath>
#include <thread>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "exporter/config_map.h"
#include "exporter/gzip_stream.h"
#include "exporter/logging.h"

namespace beam_exporter {
namespace {

// A HEAD request gets the headers only (the connection stays open for the next request).
void Respond(mg_connection* conn, int status, const char* status_text, const std::string& content_type,
             const std::string& body, const std::string& extra_headers = "") {
  const char* method = mg_get_request_info(conn)->request_method;
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
            status, status_text, content_type.c_str(), body.size(), extra_headers.c_str());
  if (method == nullptr || std::string_view(method) != "HEAD") mg_write(conn, body.data(), body.size());
}

// Sends /metrics as it is written. HTTP/1.1: each piece is one chunk, framed and written with
// one call (a separate small write for the size line would wait on Nagle and delayed ACKs);
// HTTP/1.0 has no chunks, so the body runs until the connection closes.
// A HEAD request gets these headers alone, as RFC 9110 asks (the headers a GET would get), and no
// collector runs for it.
class MetricsResponse {
 public:
  MetricsResponse(mg_connection* conn, bool gzip) : conn_(conn) {
    const mg_request_info* info = mg_get_request_info(conn);
    chunked_ = info->http_version != nullptr && std::string_view(info->http_version) != "1.0";
    mg_printf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n%s%s\r\n",
              chunked_ ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n",
              gzip ? "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n" : "");
    if (std::string_view(info->request_method) == "HEAD") {
      head_ = true;
      return;
    }
    if (gzip) {
      gzip_ = std::make_unique<GzipStream>([this](std::string_view piece) { return Send(piece); });
    }
  }

  ExpositionWriter::Sink sink() {
    if (gzip_) return [this](std::string_view piece) { return gzip_->Write(piece); };
    return [this](std::string_view piece) { return Send(piece); };
  }

  bool head() const { return head_; }

  void Finish() {
    if (head_) return;
    if (gzip_) gzip_->Finish();
    if (chunked_) mg_write(conn_, "0\r\n\r\n", 5);
  }

 private:
  bool Send(std::string_view piece) {
    if (!chunked_) return mg_write(conn_, piece.data(), piece.size()) == static_cast<int>(piece.size());
    char size_line[24];
    int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
    frame_.assign(size_line, static_cast<size_t>(n));
    frame_.append(piece).append("\r\n");
    return mg_write(conn_, frame_.data(), frame_.size()) == static_cast<int>(frame_.size());
  }

  mg_connection* conn_;
  bool chunked_ = true;
  bool head_ = false;
  std::unique_ptr<GzipStream> gzip_;
  std::string frame_;
};

std::string LandingPage(const std::string& telemetry_path) {
  return "<!DOCTYPE html>\n<html><head><title>beam_exporter</title></head><body>\n"
         "<h1>beam_exporter</h1>\n<p>Prometheus exporter for Erlang/Elixir (BEAM) systems.</p>\n<ul>\n"
         "<li><a href=\"" + telemetry_path + "\">Metrics</a></li>\n"
         "<li><a href=\"/-/healthy\">Health</a></li>\n<li><a href=\"/-/ready\">Readiness</a></li>\n"
         "</ul>\n</body></html>\n";
}

}  // namespace

class HttpServer::Handler : public CivetHandler {
 public:
  explicit Handler(HttpServer* server) : server_(server) {}

  bool handleGet(CivetServer*, mg_connection* conn) override { return Handle(conn, false); }
  bool handlePost(CivetServer*, mg_connection* conn) override { return Handle(conn, true); }
  bool handleHead(CivetServer*, mg_connection* conn) override { return Handle(conn, false); }

 private:
  bool Handle(mg_connection* conn, bool post) {
    const mg_request_info* info = mg_get_request_info(conn);
    const std::string uri = info->local_uri ? info->local_uri : "/";
    const HttpRoutes& r = server_->routes_;
    // Probes stay open (kubelet sends no credentials; they reveal nothing); all else needs auth.
    const bool probe = uri == "/-/healthy" || uri == "/-/ready";
    if (!probe && !server_->Authorized(mg_get_header(conn, "Authorization"))) {
      Respond(conn, 401, "Unauthorized", "text/plain; charset=utf-8", "Unauthorized\n",
              "WWW-Authenticate: Basic realm=\"beam_exporter\"\r\n");
      return true;
    }
    if (uri == r.telemetry_path && !post) {
      std::chrono::milliseconds timeout(10000);
      if (const char* h = mg_get_header(conn, "X-Prometheus-Scrape-Timeout-Seconds")) {
        double s = std::strtod(h, nullptr);
        if (std::isfinite(s) && s > 0 && s < 3600) timeout = std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
      }
      const char* accept_encoding = mg_get_header(conn, "Accept-Encoding");
      MetricsResponse response(conn, accept_encoding != nullptr && AcceptsGzip(accept_encoding));
      if (!response.head()) {
        ExpositionWriter writer(response.sink());
        r.metrics(timeout, &writer);
        writer.Finish();
        response.Finish();
      }
    } else if (uri == "/-/healthy") {
      Respond(conn, 200, "OK", "text/plain; charset=utf-8", "Healthy\n");
    } else if (uri == "/-/ready") {
      if (r.ready()) Respond(conn, 200, "OK", "text/plain; charset=utf-8", "Ready\n");
      else Respond(conn, 503, "Service Unavailable", "text/plain; charset=utf-8", "Not ready\n");
    } else if (uri == "/-/reload") {
      if (!post) {
        Respond(conn, 405, "Method Not Allowed", "text/plain; charset=utf-8", "Use POST to reload.\n", "Allow: POST\r\n");
      } else if (Status s = r.reload(); s.ok()) {
        Respond(conn, 200, "OK", "text/plain; charset=utf-8", "Reloaded\n");
      } else {
        Respond(conn, 500, "Internal Server Error", "text/plain; charset=utf-8", "Reload failed: " + s.message() + "\n");
      }
    } else if (uri == "/" && !post) {
      Respond(conn, 200, "OK", "text/html; charset=utf-8", LandingPage(r.telemetry_path));
    } else {
      Respond(conn, 404, "Not Found", "text/plain; charset=utf-8", "Not found\n");
    }
    return true;
  }

  HttpServer* server_;
};

std::string CivetListeningPort(const std::string& listen_address, bool tls) {
  size_t colon = listen_address.rfind(':');
  if (colon == std::string::npos) throw ConfigError("listen address '" + listen_address + "': expected HOST:PORT or :PORT");
  std::string host = listen_address.substr(0, colon);
  std::string port = listen_address.substr(colon + 1);
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
    throw ConfigError("listen address '" + listen_address + "': invalid port '" + port + "'");
  }
  if (host.empty() || host == "0.0.0.0") host = "0.0.0.0";
  else if (host == "localhost") host = "127.0.0.1";
  in_addr addr{};
  if (inet_pton(AF_INET, host.c_str(), &addr) != 1) {
    throw ConfigError("listen address '" + listen_address +
                      "': expected an IPv4 address (this build's civetweb has no IPv6)");
  }
  return host + ":" + std::to_string(p) + (tls ? "s" : "");
}

bool DecodeBase64(const std::string& in, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < in.size() && in[i] != '='; ++i) {
    int v = value(in[i]);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  for (; i < in.size(); ++i) {
    if (in[i] != '=') return false;
  }
  return true;
}

HttpServer::HttpServer(const std::string& listen_address, const WebConfig& web_config, HttpRoutes routes)
    : routes_(std::move(routes)), web_config_(std::make_shared<WebConfig>(web_config)) {
  const std::string listening = CivetListeningPort(listen_address, web_config.tls());
  bind_host_ = listening.substr(0, listening.rfind(':'));
  if (bind_host_ == "0.0.0.0") bind_host_ = "127.0.0.1";
  std::vector<std::string> options = {
      "listening_ports", listening,
      "num_threads", "4",
      "request_timeout_ms", "30000",
      "enable_keep_alive", "yes",
      // Replies are written whole or in large chunks; Nagle would only hold back their tails.
      "tcp_nodelay", "1",
  };
  if (web_config.tls()) {
    // civetweb wants the key and the certificate in one PEM file.
    char dir[] = "/tmp/beam_exporter_tls_XXXXXX";
    if (mkdtemp(dir) == nullptr) throw std::runtime_error("cannot create a private directory for the TLS key");
    tls_pem_dir_ = dir;
    const std::string pem = tls_pem_dir_ + "/server.pem";
    {
      std::ofstream out(pem);
      out << std::ifstream(web_config.tls_key_file).rdbuf() << "\n" << std::ifstream(web_config.tls_cert_file).rdbuf();
    }
    chmod(pem.c_str(), 0600);
    options.insert(options.end(), {"ssl_certificate", pem});
  }
  handler_ = std::make_unique<Handler>(this);
  try {
    server_ = std::make_unique<CivetServer>(options);
  } catch (const CivetException& e) {
    throw std::runtime_error("cannot listen on " + listen_address + ": " + e.what());
  }
  server_->addHandler("/", handler_.get());
  std::vector<int> ports = server_->getListeningPorts();
  port_ = ports.empty() ? 0 : ports.front();
}

HttpServer::~HttpServer() {
  // civetweb's master thread polls its listening socket with a 2 s quantum before it sees the
  // stop flag; connecting to ourselves wakes it, so shutdown takes milliseconds.
  std::atomic<bool> closed{false};
  std::thread waker([&closed, port = port_, host = bind_host_] {
    while (!closed.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
      addr.sin_port = htons(static_cast<uint16_t>(port));
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      ::close(fd);
    }
  });
  if (server_) server_->close();
  closed.store(true);
  waker.join();
  server_.reset();
  if (!tls_pem_dir_.empty()) {
    unlink((tls_pem_dir_ + "/server.pem").c_str());
    rmdir(tls_pem_dir_.c_str());
  }
}

void HttpServer::SetWebConfig(const WebConfig& web_config) {
  MutexLock lock(&mu_);
  web_config_ = std::make_shared<WebConfig>(web_config);
}

bool HttpServer::Authorized(const char* authorization_header) {
  std::shared_ptr<const WebConfig> config;
  {
    MutexLock lock(&mu_);
    config = web_config_;
  }
  if (config->basic_auth_users.empty()) return true;
  if (authorization_header == nullptr) return false;
  std::string header = authorization_header;
  if (header.rfind("Basic ", 0) != 0) return false;
  std::string decoded;
  if (!DecodeBase64(header.substr(6), &decoded)) return false;
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  auto user = config->basic_auth_users.find(decoded.substr(0, colon));
  if (user == config->basic_auth_users.end()) return false;
  return CheckBcrypt(decoded.substr(colon + 1), user->second);
}

}  // namespace beam_exporter
