# lint.public-headers: every public header compiles on its own, as the first and only include
# of a translation unit, with only include/ and the system's include paths (never src/), with
# the project's warnings as errors. A header that forgets one of its own includes, or reaches
# into the implementation (#include "util/..."), fails here before it reaches a user.
#   cmake -DCXX=<compiler> -DINCLUDE_DIR=<repo>/include -DEXTRA_INCLUDES=<a|b> -DWORK_DIR=<dir>
#         -P CheckPublicHeaders.cmake
file(GLOB headers RELATIVE ${INCLUDE_DIR} ${INCLUDE_DIR}/fleetbox/*.hpp)
if(NOT headers)
  message(FATAL_ERROR "no public headers under ${INCLUDE_DIR}/fleetbox")
endif()
set(flags -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wold-style-cast -Wnon-virtual-dtor -Werror -I${INCLUDE_DIR})
string(REPLACE "|" ";" extra "${EXTRA_INCLUDES}")
foreach(dir IN LISTS extra)
  # The compiler's own system directories are searched anyway (and -isystem /usr/include
  # would break libstdc++'s #include_next).
  if(dir AND NOT dir MATCHES "^/usr(/local)?/include/?$")
    list(APPEND flags -isystem ${dir})
  endif()
endforeach()
file(MAKE_DIRECTORY ${WORK_DIR})
set(failed "")
foreach(header IN LISTS headers)
  string(MAKE_C_IDENTIFIER ${header} id)
  set(tu ${WORK_DIR}/${id}.cpp)
  file(WRITE ${tu} "#include <${header}>\n#include <${header}> // include guard\n")
  execute_process(COMMAND ${CXX} ${flags} ${tu}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message("FAIL ${header}:\n${out}${err}")
    list(APPEND failed ${header})
  else()
    message("ok   ${header}")
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "public headers that do not compile on their own: ${failed}")
endif()
