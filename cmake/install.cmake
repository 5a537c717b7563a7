# Installs headers, the library, a CMake package (find_package(magpie) -> magpie::magpie, with
# hwloc found transitively) and magpie.pc.
include(CMakePackageConfigHelpers)

install(TARGETS magpie EXPORT magpieTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/magpie DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(MAGPIE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/magpie)
install(EXPORT magpieTargets NAMESPACE magpie:: DESTINATION ${MAGPIE_CMAKE_DIR})
configure_package_config_file(cmake/magpieConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/magpieConfig.cmake INSTALL_DESTINATION ${MAGPIE_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/magpieConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/magpieConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/magpieConfigVersion.cmake DESTINATION ${MAGPIE_CMAKE_DIR})

# Relocatable: the prefix is found from the .pc file's own location.
file(RELATIVE_PATH MAGPIE_PC_TO_PREFIX "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
string(REGEX REPLACE "/$" "" MAGPIE_PC_TO_PREFIX "${MAGPIE_PC_TO_PREFIX}")
configure_file(cmake/magpie.pc.in ${CMAKE_CURRENT_BINARY_DIR}/magpie.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/magpie.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
