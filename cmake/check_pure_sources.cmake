# cmake -DFILES="a.cc|a.h|..." -DSTAMP=<file> -P check_pure_sources.cmake
# Fails, naming the file and the header, when a file includes an I/O header; touches STAMP
# otherwise. Called by beam_exporter_pure_library() (cmake/pure_library.cmake) and by a test.
set(forbidden
  "sys/socket\\.h" "netinet/[a-z_]+\\.h" "arpa/inet\\.h" "netdb\\.h" "sys/un\\.h" "sys/epoll\\.h"
  "poll\\.h" "sys/eventfd\\.h" "thread" "civetweb\\.h" "CivetServer\\.h" "ei_connect\\.h"
  "exporter/http_server\\.h" "exporter/daemon\\.h"
  "collectors/telemetry/udp_listener\\.h" "collectors/telemetry/telemetry_collector\\.h"
  "collectors/beam/node_connection\\.h" "collectors/beam/epmd_lookup\\.h" "collectors/beam/beam_collector\\.h")
string(REPLACE "|" ";" files "${FILES}")
set(problems)
foreach(file ${files})
  file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  foreach(line ${includes})
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"].*" "\\1" header "${line}")
    foreach(pattern ${forbidden})
      if(header MATCHES "^${pattern}$")
        list(APPEND problems "${file}: includes <${header}>")
      endif()
    endforeach()
  endforeach()
endforeach()
if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "I/O in a pure library (docs/architecture.md, \"Libraries\"):\n  ${text}")
endif()
file(TOUCH ${STAMP})
