# DebianSource.cmake: qcp_debian_source(PACKAGE SENTINEL DEST_DIR OUT_DIR OUT_VERSION [SUITE s])
#
# Fetches Debian's patched source of PACKAGE into DEST_DIR at configure time (through
# scripts/fetch-debian-source.sh: idempotent, downloads only when apt's candidate changed), so a
# missing deb-src fails early with one message. Sets OUT_DIR to the unpacked tree (which holds
# SENTINEL) and OUT_VERSION to its Debian version, e.g. 7.88.1-10+deb12u15. SUITE takes the
# source from another Debian release (the script's --suite), e.g. trixie for OpenSSL 3.5.
include_guard(GLOBAL)

cmake_path(SET _qcp_fetch_script NORMALIZE
           "${CMAKE_CURRENT_LIST_DIR}/../scripts/fetch-debian-source.sh")

function(qcp_debian_source package sentinel dest out_dir out_version)
  cmake_parse_arguments(PARSE_ARGV 5 arg "" "SUITE" "")
  set(suite_args)
  if(arg_SUITE)
    set(suite_args --suite "${arg_SUITE}")
  endif()
  execute_process(
    COMMAND bash "${_qcp_fetch_script}" ${suite_args} "${package}" "${sentinel}" "${dest}"
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cannot get Debian's ${package} source for QCP_STATIC=ON.\n${err}")
  endif()
  string(REGEX MATCH "[^\n]+$" dir "${out}")
  if(NOT EXISTS "${dir}/${sentinel}")
    message(FATAL_ERROR "${_qcp_fetch_script} gave no ${package} source tree:\n${out}\n${err}")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_qcp_fetch_script}")
  file(STRINGS "${dir}/debian/changelog" changelog LIMIT_COUNT 1)
  string(REGEX REPLACE "^[^ ]+ \\(([^)]+)\\).*" "\\1" version "${changelog}")
  message(STATUS "${package} ${version} (Debian source) in ${dir}")
  set(${out_dir} "${dir}" PARENT_SCOPE)
  set(${out_version} "${version}" PARENT_SCOPE)
endfunction()
