# Installs headers, the library, a CMake package (find_package(magpie) -> magpie::magpie, with
# hwloc found transitively) and magpie.pc. Included when MAGPIE_INSTALL is on, also from a
# parent project (add_subdirectory, FetchContent): its own install(EXPORT) of targets that link
# magpie::magpie then finds magpie in the magpieTargets export set.
include(CMakePackageConfigHelpers)

install(TARGETS magpie EXPORT magpieTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/magpie DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(MAGPIE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/magpie)
install(EXPORT magpieTargets NAMESPACE magpie:: DESTINATION ${MAGPIE_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/magpieConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/magpieConfig.cmake INSTALL_DESTINATION ${MAGPIE_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/magpieConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/magpieConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/magpieConfigVersion.cmake DESTINATION ${MAGPIE_CMAKE_DIR})

# Relocatable: the prefix is found from the .pc file's own location.
file(RELATIVE_PATH MAGPIE_PC_TO_PREFIX "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
string(REGEX REPLACE "/$" "" MAGPIE_PC_TO_PREFIX "${MAGPIE_PC_TO_PREFIX}")
# A static libmagpie (the default, and then the only one installed) needs hwloc, the C++
# runtime and libm on every link line, --static or not: Requires and Libs carry them (Libs.private
# too, for readers that look there). A shared one links them itself.
if(MAGPIE_LIBRARY_TYPE STREQUAL "STATIC_LIBRARY")
  set(MAGPIE_PC_REQUIRES "Requires: hwloc")
  set(MAGPIE_PC_LIBS_EXTRA " -l${MAGPIE_CXX_RUNTIME} -lm")
else()
  set(MAGPIE_PC_REQUIRES "Requires.private: hwloc")
  set(MAGPIE_CXX_RUNTIME stdc++)
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/magpie.pc.in ${CMAKE_CURRENT_BINARY_DIR}/magpie.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/magpie.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
