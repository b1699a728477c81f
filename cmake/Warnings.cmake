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
