# StaticYaml.cmake: qcp::yaml for the fully static release binary (QCP_STATIC=ON).
#
# check-config reads YAML with libyaml's parser only. Debian's libyaml.a is built at -O2 without
# per-function sections, so its whole objects (emitter API included) would land in a binary that
# has a 6 MiB budget. This compiles just the four parser sources (api, reader, scanner, parser)
# from Debian's patched libyaml source (`apt-get source libyaml`, fetched at configure time like
# curl's) at -Os with section garbage collection: about 28 KiB smaller.
include_guard(GLOBAL)

include(DebianSource)
qcp_debian_source(libyaml src/parser.c "${CMAKE_BINARY_DIR}/_deps/libyaml"
                  QCP_YAML_SOURCE_DIR QCP_YAML_DEBIAN_VERSION)
# libyaml's own build passes its version as macros (yaml_get_version reports them).
string(REGEX MATCH "^([0-9]+)\\.([0-9]+)\\.([0-9]+)" _qcp_yaml_version "${QCP_YAML_DEBIAN_VERSION}")
if(NOT _qcp_yaml_version)
  message(FATAL_ERROR "StaticYaml: no version in ${QCP_YAML_DEBIAN_VERSION}")
endif()
set(_qcp_major ${CMAKE_MATCH_1})
set(_qcp_minor ${CMAKE_MATCH_2})
set(_qcp_patch ${CMAKE_MATCH_3})

add_library(qcp_yaml STATIC
  "${QCP_YAML_SOURCE_DIR}/src/api.c"
  "${QCP_YAML_SOURCE_DIR}/src/reader.c"
  "${QCP_YAML_SOURCE_DIR}/src/scanner.c"
  "${QCP_YAML_SOURCE_DIR}/src/parser.c")
target_include_directories(qcp_yaml SYSTEM PUBLIC "${QCP_YAML_SOURCE_DIR}/include")
target_compile_definitions(qcp_yaml PRIVATE
  YAML_VERSION_MAJOR=${_qcp_major}
  YAML_VERSION_MINOR=${_qcp_minor}
  YAML_VERSION_PATCH=${_qcp_patch}
  YAML_VERSION_STRING="${_qcp_major}.${_qcp_minor}.${_qcp_patch}")
target_compile_options(qcp_yaml PRIVATE -Os -ffunction-sections -fdata-sections)
add_library(qcp::yaml ALIAS qcp_yaml)
