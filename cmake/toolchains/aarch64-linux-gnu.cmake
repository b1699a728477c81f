# Toolchain for linux/arm64 release builds on Debian 12 (amd64): Debian's cross compiler
# (crossbuild-essential-arm64) against the arm64 -dev packages installed through dpkg multiarch
# (libc6-dev:arm64, libc-ares-dev:arm64, libgtest-dev:arm64, ...; scripts/install-deps.sh --arm64).
#
# glibc comes from libc6-dev:arm64, the same Debian 12 version as the amd64 build links, not from
# the cross toolchain's own copy (libc6-dev-arm64-cross, which the cross libstdc++ pulls in and
# which is not rebuilt for Debian's security updates: 2.36-8cross1 against 2.36-9+deb12u14). So
# the compiler's search is spelled out: libstdc++'s and GCC's headers, then the multiarch glibc
# headers (-nostdinc drops /usr/aarch64-linux-gnu/include), and the multiarch library and
# start-file directory ahead of the cross one. The include order must stay as GCC's own, since
# libstdc++'s <cstdlib> and friends #include_next the C headers.
#
# Tests run under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR): ctest and gtest_discover_tests use it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_AR aarch64-linux-gnu-ar CACHE FILEPATH "")
set(CMAKE_RANLIB aarch64-linux-gnu-ranlib CACHE FILEPATH "")
set(CMAKE_STRIP aarch64-linux-gnu-strip CACHE FILEPATH "")

set(_qcp_gcc_version 12)
set(_qcp_cross_cxx /usr/aarch64-linux-gnu/include/c++/${_qcp_gcc_version})
set(_qcp_gcc_include /usr/lib/gcc-cross/aarch64-linux-gnu/${_qcp_gcc_version}/include)
set(_qcp_c_includes "-nostdinc -isystem ${_qcp_gcc_include} -isystem /usr/include/aarch64-linux-gnu -isystem /usr/include")
set(_qcp_cxx_includes "-nostdinc -isystem ${_qcp_cross_cxx} -isystem ${_qcp_cross_cxx}/aarch64-linux-gnu -isystem ${_qcp_cross_cxx}/backward -isystem ${_qcp_gcc_include} -isystem /usr/include/aarch64-linux-gnu -isystem /usr/include")
set(CMAKE_C_FLAGS_INIT "${_qcp_c_includes}")
set(CMAKE_CXX_FLAGS_INIT "${_qcp_cxx_includes}")
set(_qcp_multiarch_libs "-B/usr/lib/aarch64-linux-gnu/ -L/usr/lib/aarch64-linux-gnu")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_qcp_multiarch_libs}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_qcp_multiarch_libs}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "${_qcp_multiarch_libs}")

# Packages and libraries of the target only; programs (perl, git, dpkg) of the build machine.
set(CMAKE_FIND_ROOT_PATH /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/cmake)

find_program(QCP_QEMU_AARCH64 qemu-aarch64-static)
if(QCP_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${QCP_QEMU_AARCH64}")
endif()
