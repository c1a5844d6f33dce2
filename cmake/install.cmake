# `cmake --install` layout and the Debian package (CPack), for running beam_exporter on a VM
# under systemd (docs/install.md):
#   <prefix>/bin/beam_exporter, <prefix>/lib/beam_exporter/   the daemon (exporter/CMakeLists.txt)
#   /etc/beam_exporter/beam_exporter.yml                      the configuration (a conffile)
#   <prefix>/share/beam_exporter/                              mapping presets, dashboards, rules
#   <prefix>/lib/systemd/system/beam_exporter.service          the hardened unit
# The configuration is in /etc whatever the prefix: the unit and the docs name that path.
# Build the package with the prefix it installs to:
#   cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON
#   cmake --build build-deb --target beam_exporter && (cd build-deb && cpack -G DEB)     (docs/install.md)
set(BEAM_EXPORTER_CONFIG_DIR /etc/beam_exporter)
set(BEAM_EXPORTER_DATA_DIR ${CMAKE_INSTALL_PREFIX}/share/beam_exporter)
set(BEAM_EXPORTER_BINARY ${CMAKE_INSTALL_PREFIX}/bin/beam_exporter)

configure_file(deploy/systemd/beam_exporter.service.in deploy/systemd/beam_exporter.service @ONLY)
configure_file(deploy/systemd/beam_exporter.yml.in deploy/systemd/beam_exporter.yml @ONLY)

install(FILES ${CMAKE_BINARY_DIR}/deploy/systemd/beam_exporter.yml DESTINATION ${BEAM_EXPORTER_CONFIG_DIR})
install(FILES ${CMAKE_BINARY_DIR}/deploy/systemd/beam_exporter.service DESTINATION lib/systemd/system)
install(DIRECTORY config/mappings DESTINATION share/beam_exporter)
install(FILES config/beam_exporter.yml DESTINATION share/beam_exporter RENAME beam_exporter.example.yml)
install(DIRECTORY grafana/dashboards DESTINATION share/beam_exporter/grafana)
install(DIRECTORY deploy/prometheus/rules DESTINATION share/beam_exporter/prometheus)
install(FILES README.md docs/install.md docs/metrics.md docs/alerts.md DESTINATION share/beam_exporter)
install(DIRECTORY docs/runbooks DESTINATION share/beam_exporter)
install(FILES LICENSE DESTINATION share/doc/beam-exporter RENAME copyright)

set(CPACK_PACKAGE_NAME beam-exporter)
set(CPACK_PACKAGE_VENDOR beam_exporter)
set(CPACK_PACKAGE_CONTACT "beam_exporter maintainers <beam-exporter@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Prometheus exporter for Erlang/Elixir (BEAM) nodes")
set(CPACK_PACKAGE_DESCRIPTION "Reads an Erlang/Elixir node from outside as a hidden C node (memory, processes, mailboxes, schedulers, ETS) and turns :telemetry events sent over UDP into Prometheus metrics.")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
# Depends: what dpkg-shlibdeps finds for the binary and its OpenSSL shims (libcivetweb1,
# libprometheus-cpp-core1.0, libyaml-cpp0.7, libspdlog1.10, libfmt9, libssl3, libc6, ...), and
# adduser for the maintainer script that creates the service user.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/deploy/debian/postinst
  ${CMAKE_SOURCE_DIR}/deploy/debian/prerm
  ${CMAKE_SOURCE_DIR}/deploy/debian/postrm
  ${CMAKE_SOURCE_DIR}/deploy/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
