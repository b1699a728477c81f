# StaticCurl.cmake: qcp::curl for the fully static release binary (QCP_STATIC=ON).
#
# Debian ships no usable static libcurl (libcurl.a from libcurl4-openssl-dev wants brotli, zstd,
# nghttp2, libidn2, libpsl, libssh2, GSSAPI, LDAP... as static archives too), so this builds a
# minimal, HTTPS-only libcurl.a from Debian's patched curl source (upstream 7.88.1 plus Debian's
# security fixes, fetched with `apt-get source curl`) and links it with Debian's static c-ares
# and the minimal static OpenSSL of cmake/StaticOpenSsl.cmake (included first, by
# Dependencies.cmake: FindOpenSSL below finds that one).
#
# Design points:
#  * Name resolution goes through c-ares, never glibc's getaddrinfo/NSS: a static glibc binary
#    would otherwise dlopen libnss_*.so of the build host's glibc version at run time.
#  * No CA bundle/path of the build host is baked in (CURL_CA_BUNDLE/CURL_CA_PATH=none, no
#    fallback): the program must pass CURLOPT_CAINFO (or CURLOPT_CAINFO_BLOB) for the node it runs
#    on; without one, every TLS verification fails.
#  * OpenSSL does not auto-load the node's openssl.cnf (it could name providers/engines that a
#    static binary cannot load, and TLS behaviour would vary from node to node).
#  * Proxy support (HTTPS_PROXY/NO_PROXY) and verbose error strings stay enabled.
#
# Consumers: target_link_libraries(exe PRIVATE qcp::curl) and target_link_options(exe PRIVATE
# -static). qcp::curl carries the include directory, CURL_STATICLIB and the link order
# libcurl.a, libcares.a, libssl.a, libcrypto.a, threads, dl.
#
# Expected link warnings with -static ("Using 'X' in statically linked applications requires at
# runtime the shared libraries..."): getaddrinfo (libcrypto bio_addr.o), gethostbyname (libcrypto
# bio_sock.o), getservbyname (c-ares ares_getaddrinfo.o) and getservbyport_r (c-ares
# ares_getnameinfo.o). They come from whole objects of the OpenSSL/c-ares archives, no curl option
# removes them, and none is called at run time on our paths: curl resolves through c-ares with a
# numeric service (ARES_AI_NUMERICSERV) and gives OpenSSL a connected socket.
include_guard(GLOBAL)

if(NOT CMAKE_C_COMPILER)
  message(FATAL_ERROR "StaticCurl: enable the C language in project() (curl is C)")
endif()

set(_qcp_deps_hint "run scripts/install-deps.sh (as root) to install the build dependencies")

find_package(Threads REQUIRED)

# --- OpenSSL, static -------------------------------------------------------------------------
# Scoped so OPENSSL_USE_STATIC_LIBS does not leak into the including directory. A cache left over
# from a shared-library configure would keep pointing at libssl.so; drop such entries first.
foreach(_qcp_var IN ITEMS OPENSSL_SSL_LIBRARY OPENSSL_CRYPTO_LIBRARY)
  if(DEFINED CACHE{${_qcp_var}} AND NOT "$CACHE{${_qcp_var}}" MATCHES "\\.a$")
    unset(${_qcp_var} CACHE)
  endif()
endforeach()
block(SCOPE_FOR VARIABLES)
  set(OPENSSL_USE_STATIC_LIBS TRUE)
  find_package(OpenSSL 3 REQUIRED)
endblock()
if(NOT OPENSSL_SSL_LIBRARY MATCHES "\\.a$" OR NOT OPENSSL_CRYPTO_LIBRARY MATCHES "\\.a$")
  message(FATAL_ERROR "StaticCurl: static OpenSSL (libssl.a, libcrypto.a) not found; ${_qcp_deps_hint}")
endif()

# --- c-ares, static --------------------------------------------------------------------------
find_path(QCP_CARES_INCLUDE_DIR ares.h)
find_library(QCP_CARES_STATIC_LIBRARY NAMES libcares.a)
if(NOT QCP_CARES_INCLUDE_DIR OR NOT QCP_CARES_STATIC_LIBRARY)
  message(FATAL_ERROR "StaticCurl: static c-ares (ares.h, libcares.a) not found; ${_qcp_deps_hint}")
endif()
mark_as_advanced(QCP_CARES_INCLUDE_DIR QCP_CARES_STATIC_LIBRARY)

# --- Debian's curl source and libcurl.a, built at configure time ------------------------------
# Built once per set of inputs and, with QCP_DEPS_CACHE_DIR, shared by the build trees that would
# build the same bytes (the tested build and scripts/release.sh's, of one architecture), as
# OpenSSL is: the key below names everything that goes into the archive, so any change rebuilds it.
# Two configures at once take turns.
include(DebianSource)
include(RunLogged)
if(QCP_DEPS_CACHE_DIR)
  set(_qcp_curl_root "${QCP_DEPS_CACHE_DIR}/curl-${CMAKE_SYSTEM_PROCESSOR}")
  file(MAKE_DIRECTORY "${QCP_DEPS_CACHE_DIR}")
  file(LOCK "${_qcp_curl_root}.lock" GUARD FILE TIMEOUT 1800)
else()
  set(_qcp_curl_root "${CMAKE_BINARY_DIR}/_deps/curl")
endif()
qcp_debian_source(curl CMakeLists.txt "${_qcp_curl_root}/download"
                  QCP_CURL_SOURCE_DIR QCP_CURL_DEBIAN_VERSION)

set(_qcp_curl_args)
foreach(_qcp_var IN ITEMS CMAKE_TOOLCHAIN_FILE CMAKE_C_COMPILER_LAUNCHER CMAKE_AR CMAKE_RANLIB)
  if(${_qcp_var})
    list(APPEND _qcp_curl_args "-D${_qcp_var}:STRING=${${_qcp_var}}")
  endif()
endforeach()
list(APPEND _qcp_curl_args
  "-DCMAKE_C_COMPILER:FILEPATH=${CMAKE_C_COMPILER}"
  -DCMAKE_BUILD_TYPE:STRING=Release
  # -Os with section GC: the exchange is one request, and size is a release target.
  "-DCMAKE_C_FLAGS_RELEASE:STRING=-Os -DNDEBUG -ffunction-sections -fdata-sections -ffile-prefix-map=${QCP_CURL_SOURCE_DIR}/=curl/"
  # static library only
  -DBUILD_SHARED_LIBS:BOOL=OFF
  -DBUILD_CURL_EXE:BOOL=OFF
  -DBUILD_TESTING:BOOL=OFF
  -DCURL_ENABLE_EXPORT_TARGET:BOOL=OFF
  -DENABLE_MANUAL:BOOL=OFF  # also the only docs switch in 7.88
  # protocols: HTTP(S) only; proxy support and verbose strings stay on
  -DHTTP_ONLY:BOOL=ON
  -DCURL_DISABLE_PROXY:BOOL=OFF
  -DCURL_DISABLE_VERBOSE_STRINGS:BOOL=OFF
  -DCURL_DISABLE_LDAP:BOOL=ON
  -DCURL_DISABLE_LDAPS:BOOL=ON
  -DCURL_DISABLE_NTLM:BOOL=ON
  -DCURL_DISABLE_COOKIES:BOOL=ON
  -DCURL_DISABLE_ALTSVC:BOOL=ON
  -DCURL_DISABLE_HSTS:BOOL=ON
  -DCURL_DISABLE_NETRC:BOOL=ON
  -DCURL_DISABLE_DOH:BOOL=ON
  # Nothing below is used by one HTTPS GET with Basic auth; each costs binary size.
  -DCURL_DISABLE_MIME:BOOL=ON
  -DCURL_DISABLE_GETOPTIONS:BOOL=ON
  -DCURL_DISABLE_PARSEDATE:BOOL=ON
  -DCURL_DISABLE_PROGRESS_METER:BOOL=ON
  -DCURL_DISABLE_SHUFFLE_DNS:BOOL=ON
  -DCURL_DISABLE_CRYPTO_AUTH:BOOL=ON
  -DCURL_DISABLE_LIBCURL_OPTION:BOOL=ON
  -DENABLE_UNIX_SOCKETS:BOOL=OFF
  -DENABLE_WEBSOCKETS:BOOL=OFF
  # TLS: OpenSSL, static; no CA location of the build host compiled in
  -DCURL_ENABLE_SSL:BOOL=ON
  -DCURL_USE_OPENSSL:BOOL=ON
  -DOPENSSL_USE_STATIC_LIBS:BOOL=ON
  "-DOPENSSL_INCLUDE_DIR:PATH=${OPENSSL_INCLUDE_DIR}"
  "-DOPENSSL_SSL_LIBRARY:FILEPATH=${OPENSSL_SSL_LIBRARY}"
  "-DOPENSSL_CRYPTO_LIBRARY:FILEPATH=${OPENSSL_CRYPTO_LIBRARY}"
  -DCURL_DISABLE_OPENSSL_AUTO_LOAD_CONFIG:BOOL=ON
  -DCURL_CA_BUNDLE:STRING=none
  -DCURL_CA_PATH:STRING=none
  -DCURL_CA_FALLBACK:BOOL=OFF
  # resolver: c-ares (no getaddrinfo, hence no NSS), not the threaded resolver
  -DENABLE_ARES:BOOL=ON
  "-DCARES_INCLUDE_DIR:PATH=${QCP_CARES_INCLUDE_DIR}"
  "-DCARES_LIBRARY:FILEPATH=${QCP_CARES_STATIC_LIBRARY}"
  # no optional libraries
  -DCURL_ZLIB:STRING=OFF
  -DCURL_BROTLI:BOOL=OFF
  -DCURL_ZSTD:BOOL=OFF
  -DUSE_LIBIDN2:BOOL=OFF
  -DCURL_USE_LIBPSL:BOOL=OFF
  -DCURL_USE_LIBSSH2:BOOL=OFF
  -DCURL_USE_LIBSSH:BOOL=OFF
  -DCURL_USE_GSSAPI:BOOL=OFF
  -DUSE_NGHTTP2:BOOL=OFF
  -DUSE_NGTCP2:BOOL=OFF
  -DUSE_QUICHE:BOOL=OFF
  -DUSE_MSH3:BOOL=OFF)

# The key: the curl source's Debian version, every option above (compiler, flags, library
# paths), and the headers of the two libraries compiled into it.
file(SHA256 "${OPENSSL_INCLUDE_DIR}/openssl/opensslv.h" _qcp_curl_openssl_header)
file(SHA256 "${OPENSSL_INCLUDE_DIR}/openssl/configuration.h" _qcp_curl_openssl_config)
file(SHA256 "${QCP_CARES_INCLUDE_DIR}/ares_version.h" _qcp_curl_cares_header)
string(SHA256 _qcp_curl_key
  "1|${QCP_CURL_DEBIAN_VERSION}|${CMAKE_GENERATOR}|${_qcp_curl_args}|${_qcp_curl_openssl_header}|${_qcp_curl_openssl_config}|${_qcp_curl_cares_header}")
set(_qcp_curl_binary_dir "${_qcp_curl_root}/build")
set(_qcp_curl_stamp "${_qcp_curl_root}/.qcp-${_qcp_curl_key}")
set(QCP_CURL_LIBRARY "${_qcp_curl_binary_dir}/lib/${CMAKE_STATIC_LIBRARY_PREFIX}curl${CMAKE_STATIC_LIBRARY_SUFFIX}")
if(NOT EXISTS "${_qcp_curl_stamp}" OR NOT EXISTS "${QCP_CURL_LIBRARY}")
  message(STATUS "Building curl ${QCP_CURL_DEBIAN_VERSION} (static, HTTPS only) - about 30 seconds")
  file(GLOB _qcp_curl_old_stamps "${_qcp_curl_root}/.qcp-*")
  file(REMOVE_RECURSE "${_qcp_curl_binary_dir}" ${_qcp_curl_old_stamps})
  cmake_host_system_information(RESULT _qcp_jobs QUERY NUMBER_OF_LOGICAL_CORES)
  foreach(_qcp_step IN ITEMS configure build)
    if(_qcp_step STREQUAL "configure")
      set(_qcp_command "${CMAKE_COMMAND}" -G "${CMAKE_GENERATOR}" -S "${QCP_CURL_SOURCE_DIR}"
          -B "${_qcp_curl_binary_dir}" ${_qcp_curl_args})
    else()
      set(_qcp_command "${CMAKE_COMMAND}" --build "${_qcp_curl_binary_dir}" -j ${_qcp_jobs})
    endif()
    qcp_run_logged("StaticCurl: curl ${_qcp_step}" "${_qcp_curl_root}/${_qcp_step}.log"
                   COMMAND ${_qcp_command})
  endforeach()
  file(TOUCH "${_qcp_curl_stamp}")
endif()
message(STATUS "curl ${QCP_CURL_DEBIAN_VERSION} (Debian source, static) in ${_qcp_curl_binary_dir}")

# --- qcp::curl -----------------------------------------------------------------------------
add_library(qcp_curl INTERFACE)
target_include_directories(qcp_curl SYSTEM INTERFACE "${QCP_CURL_SOURCE_DIR}/include")
target_compile_definitions(qcp_curl INTERFACE CURL_STATICLIB)
# Static archives resolve left to right: curl needs c-ares and OpenSSL, libssl needs libcrypto,
# OpenSSL needs threads and dl. Imported targets that declare their own dependencies keep that
# order on every link line, even when a consumer also links OpenSSL::SSL earlier (CMake would
# otherwise drop the later, needed, occurrence).
add_library(qcp_cares_static STATIC IMPORTED)
set_target_properties(qcp_cares_static PROPERTIES IMPORTED_LOCATION "${QCP_CARES_STATIC_LIBRARY}")
add_library(qcp_curl_static STATIC IMPORTED)
set_target_properties(qcp_curl_static PROPERTIES
  IMPORTED_LOCATION "${QCP_CURL_LIBRARY}"
  INTERFACE_LINK_LIBRARIES "qcp_cares_static;OpenSSL::SSL;OpenSSL::Crypto;Threads::Threads;${CMAKE_DL_LIBS}")
target_link_libraries(qcp_curl INTERFACE qcp_curl_static)
add_library(qcp::curl ALIAS qcp_curl)
