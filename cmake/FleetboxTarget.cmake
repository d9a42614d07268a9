# Common compile settings for every fleetbox target.
function(fleetbox_target target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
    -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
  if(FLEETBOX_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# A layer library: sources under src/<layer>, includes rooted at src/ (so code writes
# #include "store/names.hpp"). DEPS are the layers below it: the only allowed includes.
# A layer without sources yet is an INTERFACE library, so the tree configures while a
# layer is being written.
function(fleetbox_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    add_library(fleetbox_${name} INTERFACE)
    target_include_directories(fleetbox_${name} INTERFACE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
    target_link_libraries(fleetbox_${name} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(fleetbox_${name} STATIC ${ARG_SOURCES})
  # The layers are linked into the shared libfleetbox (src/lib): position-independent, and
  # nothing exported but what the public headers mark FLEETBOX_API.
  set_target_properties(fleetbox_${name} PROPERTIES
    POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(fleetbox_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(fleetbox_${name} PUBLIC ${ARG_DEPS})
  fleetbox_target(fleetbox_${name})
endfunction()
