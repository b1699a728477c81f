# Sbom.cmake: qcp_add_sbom(TARGET): after TARGET links, the build writes
# <binary>.spdx.json next to it, an SPDX 2.3 document of every component linked into the
# static binary, each with the exact version of the build's real inputs: the Debian source
# packages this build compiled (OpenSSL, curl, libyaml) and the Debian packages whose archives
# or headers it linked (glibc, libstdc++, c-ares, nlohmann-json, spdlog, fmt, CLI11), asked of
# dpkg for the very files used. The binary's own SHA-256 is computed from the file that was
# linked. Nothing in it is written by hand, and nothing varies between two builds of one commit
# (no timestamps but SOURCE_DATE_EPOCH, the commit's time, when given).
include_guard(GLOBAL)

# Debian's name of the architecture built for: dpkg knows multiarch packages by it.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(QCP_DPKG_ARCH arm64)
else()
  set(QCP_DPKG_ARCH amd64)
endif()

# The Debian package that owns FILE, and its version; fails the configure when dpkg knows none.
# A file that packages of several architectures share (a multiarch header) is credited to the
# package of the architecture built for.
function(qcp_owning_package file out_name out_version)
  execute_process(COMMAND dpkg-query -S "${file}" OUTPUT_VARIABLE owner RESULT_VARIABLE rc
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT rc EQUAL 0)
    get_filename_component(real "${file}" REALPATH)
    execute_process(COMMAND dpkg-query -S "${real}" OUTPUT_VARIABLE owner RESULT_VARIABLE rc
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endif()
  # "libfmt-dev:amd64, libfmt-dev:arm64: /usr/include/fmt/format.h" -> the packages
  string(REGEX REPLACE ": /.*$" "" owners "${owner}")
  string(REPLACE ", " ";" owners "${owners}")
  set(package "")
  foreach(candidate IN LISTS owners)
    if(candidate MATCHES ":${QCP_DPKG_ARCH}$" OR (package STREQUAL "" AND NOT candidate MATCHES ":"))
      set(package "${candidate}")
    endif()
  endforeach()
  if(NOT rc EQUAL 0 OR package STREQUAL "")
    message(FATAL_ERROR "Sbom: no Debian package of ${QCP_DPKG_ARCH} owns ${file} (${owner})")
  endif()
  execute_process(COMMAND dpkg-query -W "-f=\${Version}" "${package}" OUTPUT_VARIABLE version
                  RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT rc EQUAL 0 OR NOT version MATCHES "^[0-9][^ ]*$")
    message(FATAL_ERROR "Sbom: dpkg has no single version of ${package} (${version})")
  endif()
  string(REGEX REPLACE ":${QCP_DPKG_ARCH}$" "" name "${package}")
  set(${out_name} "${name}" PARENT_SCOPE)
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
  # Asked with the link flags, which may point the compiler at another glibc (the arm64
  # toolchain file does).
  separate_arguments(link_flags UNIX_COMMAND "${CMAKE_EXE_LINKER_FLAGS}")
  execute_process(COMMAND "${CMAKE_CXX_COMPILER}" ${link_flags} -print-file-name=libstdc++.a
                  OUTPUT_VARIABLE libstdcxx OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND "${CMAKE_C_COMPILER}" ${link_flags} -print-file-name=libc.a
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
  # A new version of a component relinks the binary, and so rewrites its SBOM.
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${facts}")

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
