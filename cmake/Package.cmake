# `cmake --install`: the CMake package (find_package(fleetbox CONFIG) -> fleetbox::fleetbox,
# fleetbox::gtest) and the pkg-config file. The targets themselves install from src/lib,
# src/gtest and tools/ (bin/fleetbox, libexec/fleetbox/fleetbox-helper). Tests, benchmarks
# and the fake helper are never installed.
include(CMakePackageConfigHelpers)

set(FLEETBOX_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/fleetbox)
install(EXPORT fleetboxTargets NAMESPACE fleetbox:: FILE fleetboxTargets.cmake
  DESTINATION ${FLEETBOX_CMAKE_DIR})
if(TARGET fleetbox_gtest)
  install(EXPORT fleetboxGtestTargets NAMESPACE fleetbox:: FILE fleetboxGtestTargets.cmake
    DESTINATION ${FLEETBOX_CMAKE_DIR})
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/fleetboxConfig.cmake.in
  ${PROJECT_BINARY_DIR}/fleetboxConfig.cmake INSTALL_DESTINATION ${FLEETBOX_CMAKE_DIR})
# 0.x: a minor release may break the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/fleetboxConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/fleetboxConfig.cmake
  ${PROJECT_BINARY_DIR}/fleetboxConfigVersion.cmake DESTINATION ${FLEETBOX_CMAKE_DIR})

file(RELATIVE_PATH FLEETBOX_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig
  ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" FLEETBOX_PC_TO_PREFIX "${FLEETBOX_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/fleetbox.pc.in ${PROJECT_BINARY_DIR}/fleetbox.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/fleetbox.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
