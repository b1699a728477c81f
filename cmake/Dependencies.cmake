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
