# The revision for beam_exporter_build_info and --version, first found of:
#   -DBEAM_EXPORTER_REVISION_OVERRIDE=<rev>   a packager building from elsewhere
#   git, when the source tree is a checkout
#   the REVISION file that the `dist` target writes into a source archive (cmake/dist.cmake)
# and `unknown` only when none of them is there.
set(BEAM_EXPORTER_REVISION_OVERRIDE "" CACHE STRING "Revision reported by beam_exporter_build_info (default: git, then REVISION)")
set(BEAM_EXPORTER_REVISION "${BEAM_EXPORTER_REVISION_OVERRIDE}")
if(NOT BEAM_EXPORTER_REVISION AND EXISTS ${CMAKE_SOURCE_DIR}/.git)
  execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    OUTPUT_VARIABLE BEAM_EXPORTER_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(NOT BEAM_EXPORTER_REVISION AND EXISTS ${CMAKE_SOURCE_DIR}/REVISION)
  file(STRINGS ${CMAKE_SOURCE_DIR}/REVISION BEAM_EXPORTER_REVISION LIMIT_COUNT 1)
endif()
if(NOT BEAM_EXPORTER_REVISION)
  set(BEAM_EXPORTER_REVISION unknown)
endif()
message(STATUS "beam_exporter ${PROJECT_VERSION}, revision ${BEAM_EXPORTER_REVISION}")
