# `cmake --build build --target dist`: the source archive build/beam_exporter-<version>.tar.gz of
# the committed HEAD (git archive), with a REVISION file holding HEAD's revision, so a build from
# the archive, where there is no git, still reports it (cmake/revision.cmake).
set(BEAM_EXPORTER_DIST_NAME beam_exporter-${PROJECT_VERSION})
add_custom_target(dist
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/dist-stage
  COMMAND sh -c "git -C '${CMAKE_SOURCE_DIR}' rev-parse --short=12 HEAD > '${CMAKE_BINARY_DIR}/dist-stage/REVISION'"
  COMMAND git -C ${CMAKE_SOURCE_DIR} archive --format=tar.gz --prefix=${BEAM_EXPORTER_DIST_NAME}/
          --add-file=${CMAKE_BINARY_DIR}/dist-stage/REVISION
          -o ${CMAKE_BINARY_DIR}/${BEAM_EXPORTER_DIST_NAME}.tar.gz HEAD
  COMMENT "Source archive ${CMAKE_BINARY_DIR}/${BEAM_EXPORTER_DIST_NAME}.tar.gz"
  VERBATIM)
