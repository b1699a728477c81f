# RunLogged.cmake: qcp_run_logged(WHAT LOG [WORKING_DIRECTORY DIR] COMMAND ...)
#
# Runs one step of a dependency built at configure time (OpenSSL, curl) with its output in LOG,
# and on failure stops the configure with WHAT, the log's path and its last 4,000 characters:
# the error is usually at the end of a long log.
include_guard(GLOBAL)

function(qcp_run_logged what log)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "WORKING_DIRECTORY" "COMMAND")
  set(where)
  if(arg_WORKING_DIRECTORY)
    set(where WORKING_DIRECTORY "${arg_WORKING_DIRECTORY}")
  endif()
  execute_process(COMMAND ${arg_COMMAND} ${where}
                  RESULT_VARIABLE rc OUTPUT_FILE "${log}" ERROR_FILE "${log}")
  if(NOT rc EQUAL 0)
    file(READ "${log}" text)
    string(LENGTH "${text}" length)
    if(length GREATER 4000)
      math(EXPR from "${length} - 4000")
      string(SUBSTRING "${text}" ${from} -1 text)
    endif()
    message(FATAL_ERROR "${what} failed (log: ${log}):\n${text}")
  endif()
endfunction()
