# Sbom.cmake: qcp_add_sbom(TARGET): after TARGET links, the build writes
# <binary>.spdx.json next to it, an SPDX 2.3 document of every component linked into the
# static binary, each with the exact version of the build's real inputs: the Debian source
# packages this build compiled (OpenSSL, curl, libyaml) and the Debian packages whose archives
# or headers it linked (glibc, libstdc++, c-ares, nlohmann-json, spdlog, fmt, CLI11), asked of
# dpkg for the very files used. The binary's own SHA-256 is computed from the file that was
# linked. Nothing in it is written by hand, and nothing varies between two builds of one commit
# (no timestamps but SOURCE_DATE_EPOCH, the commit's time, when given).
include_guard(GLOBAL)

# The Debian package that owns FILE, and its version; fails the configure when dpkg knows none.
function(qcp_owning_package file out_name out_version)
  execute_process(COMMAND dpkg-query -S "${file}" OUTPUT_VARIABLE owner RESULT_VARIABLE rc
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT rc EQUAL 0)
    get_filename_component(real "${file}" REALPATH)
    execute_process(COMMAND dpkg-query -S "${real}" OUTPUT_VARIABLE owner RESULT_VARIABLE rc
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endif()
  string(REGEX REPLACE ":.*$" "" package "${owner}")  # "libc6-dev:amd64: /usr/..." -> libc6-dev
  string(REGEX REPLACE ",.*$" "" package "${package}")
  if(NOT rc EQUAL 0 OR package STREQUAL "")
    message(FATAL_ERROR "Sbom: no Debian package owns ${file}")
  endif()
  execute_process(COMMAND dpkg-query -W "-f=\${Version}" "${package}" OUTPUT_VARIABLE version
                  RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT rc EQUAL 0 OR version STREQUAL "")
    message(FATAL_ERROR "Sbom: dpkg has no version of ${package}")
  endif()
  set(${out_name} "${package}" PARENT_SCOPE)
  set(${out_version} "${version}" PARENT_SCOPE)
endfunction()

# A header of a package found on the include path.
function(qcp_header_package header out_name out_version)
  find_file(_qcp_sbom_header_${out_name} "${header}" NO_CACHE REQUIRED)
  qcp_owning_package("${_qcp_sbom_header_${out_name}}" name version)
  set(${out_name} "${name}" PARENT_SCOPE)
  set(${out_version} "${version}" PARENT_SCOPE)
endfunction()

function(qcp_add_sbom target)
  execute_process(COMMAND "${CMAKE_CXX_COMPILER}" -print-file-name=libstdc++.a
                  OUTPUT_VARIABLE libstdcxx OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND "${CMAKE_C_COMPILER}" -print-file-name=libc.a
                  OUTPUT_VARIABLE libc OUTPUT_STRIP_TRAILING_WHITESPACE)
  qcp_owning_package("${libc}" glibc_package glibc_version)
  qcp_owning_package("${libstdcxx}" stdcxx_package stdcxx_version)
  qcp_owning_package("${QCP_CARES_STATIC_LIBRARY}" cares_package cares_version)
  qcp_header_package(nlohmann/json.hpp json_package json_version)
  qcp_header_package(spdlog/spdlog.h spdlog_package spdlog_version)
  qcp_header_package(fmt/format.h fmt_package fmt_version)
  qcp_header_package(CLI/CLI.hpp cli11_package cli11_version)

  # name|version|SPDX license|how it came in (supplier package or source)
  set(components
    "glibc|${glibc_version}|LGPL-2.1-or-later|Debian package ${glibc_package}"
    "libstdc++|${stdcxx_version}|GPL-3.0-or-later WITH GCC-exception-3.1|Debian package ${stdcxx_package}"
    "OpenSSL|${QCP_OPENSSL_DEBIAN_VERSION}|Apache-2.0|Debian source package openssl (trixie), built by this project"
    "curl|${QCP_CURL_DEBIAN_VERSION}|curl|Debian source package curl, built by this project"
    "c-ares|${cares_version}|MIT|Debian package ${cares_package}"
    "libyaml|${QCP_YAML_DEBIAN_VERSION}|MIT|Debian source package libyaml, built by this project"
    "nlohmann-json|${json_version}|MIT|Debian package ${json_package} (header-only)"
    "spdlog|${spdlog_version}|MIT|Debian package ${spdlog_package} (header-only)"
    "fmt|${fmt_version}|MIT|Debian package ${fmt_package} (header-only)"
    "CLI11|${cli11_version}|BSD-3-Clause|Debian package ${cli11_package} (header-only)")
  string(REPLACE ";" "\n" components_text "${components}")
  set(facts "${CMAKE_CURRENT_BINARY_DIR}/${target}.sbom-components.txt")
  file(GENERATE OUTPUT "${facts}" CONTENT "${components_text}\n")

  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND "${CMAKE_COMMAND}"
      "-DBINARY=$<TARGET_FILE:${target}>"
      "-DOUTPUT=$<TARGET_FILE:${target}>.spdx.json"
      "-DCOMPONENTS=${facts}"
      "-DNAME=${target}"
      "-DVERSION=${PROJECT_VERSION}"
      "-DCOMMIT=${QCP_COMMIT}"
      "-DARCH=${CMAKE_SYSTEM_PROCESSOR}"
      -P "${PROJECT_SOURCE_DIR}/cmake/write_sbom.cmake"
    COMMENT "SPDX SBOM of ${target}"
    VERBATIM)
endfunction()
