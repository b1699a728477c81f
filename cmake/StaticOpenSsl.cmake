# StaticOpenSsl.cmake: the OpenSSL of the static build (QCP_STATIC=ON), built at configure time
# from Debian's patched source of OpenSSL 3.5 (trixie; fetched with `apt-get source` through a
# private apt state, see scripts/fetch-debian-source.sh --suite), configured for one job: a TLS
# 1.2/1.3 client that verifies X.509 chains.
#
# Why not Debian 12's libssl.a (OpenSSL 3.0): one lookup spent ~35-50% of its instructions in
# 3.0's algorithm fetch and decoder set-up, which 3.5 caches; and 3.0 brings engines, the legacy
# provider and protocols nothing here speaks. Measured (bench/lookup_bench.sh): 21.7 M -> 12.7 M
# instructions per lookup, 6.28 -> 5.64 MB stripped binary.
#
# Kept: TLS 1.2 and 1.3 (and 1.0/1.1, which the test fake's "old server" mode needs; the client
# refuses them through CURLOPT_SSLVERSION), ECDHE X25519/P-256/P-384, ECDSA, RSA, Ed25519, AES-GCM,
# ChaCha20-Poly1305, SHA-1/2/3 and the error strings (failures are named from them).
# Not built: shared libraries, modules, engines, the legacy provider, the apps and tests, QUIC,
# DTLS, SSL 3, compression, SRP, CT, CMS, TS, CMP, OCSP, the HTTP client, post-quantum
# algorithms, finite-field DH, DSA, 3DES, BLAKE2, CMAC and every legacy cipher (each algorithm
# compiled in is a name and a method OpenSSL sets up on first use, in every lookup). No openssl.cnf is ever read
# (no-autoload-config; OPENSSLDIR points nowhere) and SSLKEYLOGFILE is not compiled in.
# No exit-time cleanup (no-atexit): the process ends anyway.
#
# The result is found the usual way: OPENSSL_ROOT_DIR points FindOpenSSL at the staged install,
# so libcurl, the library, the tests and the fake Quay all link this one OpenSSL.
# Rebuilt only when the source version, the options or the compiler change.
include_guard(GLOBAL)
include(DebianSource)
include(RunLogged)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(_qcp_openssl_target linux-x86_64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(_qcp_openssl_target linux-aarch64)
else()
  message(FATAL_ERROR "StaticOpenSsl: no OpenSSL target for ${CMAKE_SYSTEM_PROCESSOR}")
endif()

# With QCP_DEPS_CACHE_DIR (the presets set build/_deps-cache) one target's OpenSSL is built once
# and shared by the build trees that would build the same bytes (the tested build and
# scripts/release.sh's, of one architecture): the stamp below still rebuilds it when anything
# that goes into it differs. Two configures at once take turns.
set(QCP_DEPS_CACHE_DIR "" CACHE PATH "Where dependencies built at configure time are shared")
if(QCP_DEPS_CACHE_DIR)
  set(_qcp_openssl_root "${QCP_DEPS_CACHE_DIR}/openssl-${_qcp_openssl_target}")
  file(MAKE_DIRECTORY "${QCP_DEPS_CACHE_DIR}")
  file(LOCK "${_qcp_openssl_root}.lock" GUARD FILE TIMEOUT 1800)
else()
  set(_qcp_openssl_root "${CMAKE_BINARY_DIR}/_deps/openssl")
endif()
qcp_debian_source(openssl Configure "${_qcp_openssl_root}/download"
                  QCP_OPENSSL_SOURCE_DIR QCP_OPENSSL_DEBIAN_VERSION SUITE trixie)

set(QCP_OPENSSL_OPTIONS
  no-shared no-module no-dso no-engine no-legacy no-apps no-tests no-docs
  no-autoload-config no-atexit no-sslkeylog no-ui-console no-async
  no-ssl3 no-dtls no-quic no-srtp no-comp no-srp no-nextprotoneg no-ktls no-weak-ssl-ciphers
  no-ct no-cms no-ts no-cmp no-ocsp no-http no-rfc3779
  no-ml-kem no-ml-dsa no-slh-dsa no-dh no-dsa no-ec2m no-gost no-sm2 no-sm3 no-sm4
  no-idea no-md4 no-mdc2 no-rc2 no-rc4 no-rc5 no-bf no-cast no-seed no-camellia no-aria
  no-whirlpool no-rmd160 no-siphash no-scrypt no-argon2 no-ocb no-siv no-egd no-des no-blake2
  no-cmac)
# Fixed, not the build tree: these paths are compiled into the library (as defaults nothing
# here uses), and a release must not embed where it was built.
set(_qcp_openssl_prefix /opt/qcp-openssl)
set(_qcp_openssl_stage "${_qcp_openssl_root}/stage")
set(QCP_OPENSSL_ROOT "${_qcp_openssl_stage}${_qcp_openssl_prefix}")

# The toolchain's C flags (the arm64 toolchain file's include path) reach OpenSSL's compiler too.
separate_arguments(_qcp_openssl_cflags UNIX_COMMAND "${CMAKE_C_FLAGS}")
string(SHA256 _qcp_openssl_key
  "3|${QCP_OPENSSL_DEBIAN_VERSION}|${QCP_OPENSSL_OPTIONS}|${_qcp_openssl_target}|${CMAKE_C_COMPILER}|${CMAKE_AR}|${CMAKE_RANLIB}|${_qcp_openssl_cflags}")
set(_qcp_openssl_stamp "${_qcp_openssl_stage}/.qcp-${_qcp_openssl_key}")
if(NOT EXISTS "${_qcp_openssl_stamp}")
  message(STATUS "Building OpenSSL ${QCP_OPENSSL_DEBIAN_VERSION} (static, minimal) - about 2 minutes")
  file(REMOVE_RECURSE "${_qcp_openssl_root}/build" "${_qcp_openssl_stage}")
  file(MAKE_DIRECTORY "${_qcp_openssl_root}/build")
  cmake_host_system_information(RESULT _qcp_jobs QUERY NUMBER_OF_LOGICAL_CORES)
  file(RELATIVE_PATH _qcp_openssl_configure "${_qcp_openssl_root}/build"
       "${QCP_OPENSSL_SOURCE_DIR}/Configure")
  # OpenSSL compiles its build date into the library ("built on"): the source's own date (its
  # Debian changelog entry) keeps two builds of one version identical.
  execute_process(
    COMMAND dpkg-parsechangelog -l "${QCP_OPENSSL_SOURCE_DIR}/debian/changelog" -S Timestamp
    OUTPUT_VARIABLE _qcp_openssl_epoch OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _qcp_rc)
  if(NOT _qcp_rc EQUAL 0 OR NOT _qcp_openssl_epoch MATCHES "^[0-9]+$")
    message(FATAL_ERROR "StaticOpenSsl: no date in ${QCP_OPENSSL_SOURCE_DIR}/debian/changelog")
  endif()
  set(_qcp_openssl_env
    "CC=${CMAKE_C_COMPILER}" "AR=${CMAKE_AR}" "RANLIB=${CMAKE_RANLIB}"
    "SOURCE_DATE_EPOCH=${_qcp_openssl_epoch}")
  foreach(_qcp_step IN ITEMS configure build install)
    if(_qcp_step STREQUAL "configure")
      # A relative Configure path keeps the build tree's location out of __FILE__ strings.
      set(_qcp_command perl "${_qcp_openssl_configure}" ${_qcp_openssl_target}
          --prefix=${_qcp_openssl_prefix} --libdir=lib --openssldir=/nonexistent/qcp-openssl
          ${QCP_OPENSSL_OPTIONS} ${_qcp_openssl_cflags} -Os -ffunction-sections -fdata-sections)
    elseif(_qcp_step STREQUAL "build")
      set(_qcp_command make -j${_qcp_jobs} build_libs)
    else()
      set(_qcp_command make install_dev "DESTDIR=${_qcp_openssl_stage}")
    endif()
    qcp_run_logged("StaticOpenSsl: OpenSSL ${_qcp_step}" "${_qcp_openssl_root}/${_qcp_step}.log"
                   WORKING_DIRECTORY "${_qcp_openssl_root}/build"
                   COMMAND ${CMAKE_COMMAND} -E env ${_qcp_openssl_env} ${_qcp_command})
  endforeach()
  file(TOUCH "${_qcp_openssl_stamp}")
endif()
message(STATUS "OpenSSL ${QCP_OPENSSL_DEBIAN_VERSION} (Debian trixie source, static) in ${QCP_OPENSSL_ROOT}")

# FindOpenSSL, wherever it runs, finds this one: a cache left by an earlier configure (another
# OpenSSL) is dropped first.
foreach(_qcp_var IN ITEMS OPENSSL_INCLUDE_DIR OPENSSL_SSL_LIBRARY OPENSSL_CRYPTO_LIBRARY)
  if(DEFINED CACHE{${_qcp_var}} AND NOT "$CACHE{${_qcp_var}}" MATCHES "^${QCP_OPENSSL_ROOT}/")
    unset(${_qcp_var} CACHE)
  endif()
endforeach()
set(OPENSSL_ROOT_DIR "${QCP_OPENSSL_ROOT}")
set(OPENSSL_USE_STATIC_LIBS TRUE)
find_package(OpenSSL 3.5 REQUIRED)
if(NOT OPENSSL_INCLUDE_DIR MATCHES "^${QCP_OPENSSL_ROOT}/" OR NOT OPENSSL_SSL_LIBRARY MATCHES "\\.a$")
  message(FATAL_ERROR "StaticOpenSsl: FindOpenSSL found ${OPENSSL_INCLUDE_DIR} / "
                      "${OPENSSL_SSL_LIBRARY}, not the static build in ${QCP_OPENSSL_ROOT}")
endif()
