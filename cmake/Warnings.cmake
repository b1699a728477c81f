# Warnings as a target: linked by our own targets only, never leaked to consumers or dependencies.
add_library(qcp_warnings INTERFACE)
target_compile_options(qcp_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Wnull-dereference -Wformat=2
    -Wimplicit-fallthrough>)
option(QCP_WERROR "Treat warnings as errors" OFF)
if(QCP_WERROR)
  target_compile_options(qcp_warnings INTERFACE -Werror)
endif()

# Sanitizers as a target too: linked PUBLIC by the library and the test support, so every test
# executable and the binary the e2e tests exec are instrumented alike (the `asan` preset).
set(QCP_SANITIZE "" CACHE STRING "Sanitizers for our code and tests, e.g. address,undefined")
add_library(qcp_sanitizers INTERFACE)
if(QCP_SANITIZE)
  target_compile_options(qcp_sanitizers INTERFACE
    -fsanitize=${QCP_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(qcp_sanitizers INTERFACE -fsanitize=${QCP_SANITIZE})
endif()
if(QCP_BUILD_FUZZERS)
  # The fuzz build (preset "fuzz"): libFuzzer's coverage instrumentation in every library, so the
  # fuzzers that link them are guided through their code; main() comes with each fuzzer.
  target_compile_options(qcp_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
endif()
