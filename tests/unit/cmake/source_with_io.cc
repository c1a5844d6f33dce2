// Input for pure_library_check_*: a would-be pure source that does I/O. Never compiled.
#include <string>
#include <sys/socket.h>
  #  include <thread>
#include "collectors/telemetry/udp_listener.h"
