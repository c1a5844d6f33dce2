# Pure libraries: the logic that unit tests and fuzzers link (parsers, decoders, mapper, series
# store, configuration, text formats) holds no sockets, threads or HTTP server, so that it can be
# tested with literal input and nothing running. beam_exporter_pure_library(<target>) makes the
# build fail when one of the target's sources, or the header beside it, includes an I/O header
# (cmake/check_pure_sources.cmake lists them); docs/architecture.md shows which library may
# link which.
function(beam_exporter_pure_library target)
  get_target_property(sources ${target} SOURCES)
  get_target_property(source_dir ${target} SOURCE_DIR)
  set(files)
  foreach(source ${sources})
    if(NOT IS_ABSOLUTE ${source})
      set(source ${source_dir}/${source})
    endif()
    # Generated sources (the embedded probe) are not ours to read.
    if(NOT source MATCHES "^${CMAKE_SOURCE_DIR}/")
      continue()
    endif()
    list(APPEND files ${source})
    string(REGEX REPLACE "\\.cc$" ".h" header ${source})
    if(EXISTS ${header})
      list(APPEND files ${header})
    endif()
  endforeach()
  set(stamp ${CMAKE_CURRENT_BINARY_DIR}/${target}.pure)
  string(REPLACE ";" "|" file_list "${files}")
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} "-DFILES=${file_list}" -DSTAMP=${stamp} -P ${CMAKE_SOURCE_DIR}/cmake/check_pure_sources.cmake
    DEPENDS ${files} ${CMAKE_SOURCE_DIR}/cmake/check_pure_sources.cmake
    COMMENT "Checking that ${target} includes no I/O headers"
    VERBATIM)
  add_custom_target(${target}_is_pure DEPENDS ${stamp})
  add_dependencies(${target} ${target}_is_pure)
endfunction()
