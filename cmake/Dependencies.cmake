find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(fmt 9 REQUIRED)
find_package(spdlog 1.10 REQUIRED)
find_package(CLI11 2 REQUIRED)

# spdlog and fmt header-only: Debian ships no static archives of either, and a static executable
# must not depend on libfmt.so/libspdlog.so. Header-only keeps dev and static builds identical.
add_library(qcp_logging INTERFACE)
target_compile_definitions(qcp_logging INTERFACE SPDLOG_FMT_EXTERNAL)
target_link_libraries(qcp_logging INTERFACE fmt::fmt-header-only Threads::Threads)

# OpenSSL: the system's for development; for the static binary a minimal OpenSSL 3.5 built from
# Debian's source (StaticOpenSsl), which everything in that build links.
if(QCP_STATIC)
  include(StaticOpenSsl)
endif()

# qcp::yaml: libyaml, the C YAML 1.1 parser that go-yaml (and so the kubelet's config decoder)
# was ported from; check-config reads CredentialProviderConfig files with it. The system library
# for development; for the static binary, its parser compiled from Debian's source (StaticYaml).
if(QCP_STATIC)
  include(StaticYaml)
else()
  find_path(QCP_YAML_INCLUDE_DIR yaml.h)
  find_library(QCP_YAML_LIBRARY NAMES yaml)
  if(NOT QCP_YAML_INCLUDE_DIR OR NOT QCP_YAML_LIBRARY)
    message(FATAL_ERROR "libyaml (yaml.h, libyaml) not found; run scripts/install-deps.sh (as root)")
  endif()
  mark_as_advanced(QCP_YAML_INCLUDE_DIR QCP_YAML_LIBRARY)
  add_library(qcp_yaml UNKNOWN IMPORTED)
  set_target_properties(qcp_yaml PROPERTIES
    IMPORTED_LOCATION "${QCP_YAML_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${QCP_YAML_INCLUDE_DIR}")
  add_library(qcp::yaml ALIAS qcp_yaml)
endif()

# qcp::curl: the system libcurl for development, or a minimal static HTTPS-only libcurl built
# from Debian's patched curl source for the release binary (see cmake/StaticCurl.cmake).
if(QCP_STATIC)
  include(StaticCurl)
else()
  find_package(CURL 7.80 REQUIRED)
  add_library(qcp_curl INTERFACE)
  target_link_libraries(qcp_curl INTERFACE CURL::libcurl)
  add_library(qcp::curl ALIAS qcp_curl)
endif()
