# ctest driver for the ways a project takes Magpie in. One case per run (CASE):
#   install        install the build tree into WORK_DIR/prefix, build and run the find_package
#                  consumer (tests/consumer) against it; the other installed cases reuse it
#   pkgconfig_cxx  magpie.pc from a C++ compiler (-std is the consumer's own choice)
#   pkgconfig_c    magpie.pc from C99 with -Wall -Wextra -pedantic (--static and not): no
#                  warning, links
#   c_only         a C-only CMake project (project(x C) + find_package(magpie))
#   no_exceptions  a C++ program built with -fno-exceptions (magpie.pc): the headers compile
#                  without warnings, it runs, and each mistake it makes on request is reported
#                  by the error handler (the default, then its own MAGPIE_ON_ERROR) and aborts,
#                  naming the call the program made
#   subdirectory   add_subdirectory(magpie) in a parent that installs and exports its own
#   fetchcontent   library linking magpie::magpie; the same with FetchContent from a local git
#                  repository of the source tree; then a project uses that installed library
#   shared         the whole tree with BUILD_SHARED_LIBS=ON: library, tools, two suites
# Inputs: CASE, SOURCE_DIR, BUILD_DIR (the tree under test), WORK_DIR (scratch), PREFIX (the
# install case's prefix), LIBDIR (CMAKE_INSTALL_LIBDIR), CXX, CC, CXX_FLAGS and LINK_FLAGS
# (the build's: sanitizers).
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_out "${out}" PARENT_SCOPE)
  set(run_err "${err}" PARENT_SCOPE)
endfunction()

function(pkg_config out)
  find_program(PKG_CONFIG pkg-config REQUIRED)
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${libdir}/pkgconfig")
  run(${PKG_CONFIG} ${ARGN} magpie)
  string(STRIP "${run_out}" flags)
  if(flags MATCHES "-std=")
    message(FATAL_ERROR "magpie.pc imposes a language standard: ${flags}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(${out} ${flags} PARENT_SCOPE)
endfunction()

# A parent project (tests/consumer/parent) that takes Magpie in by `how`, builds, installs, and
# a downstream project that uses what it installed.
function(check_parent how)
  set(build "${WORK_DIR}/parent")
  # No CMAKE_BUILD_TYPE: Magpie must leave the parent's empty one alone (and -O0 builds fast).
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer/parent" -B "${build}"
      -DCMAKE_CXX_COMPILER=${CXX} -DMAGPIE_FROM=${how} ${ARGN})
  file(STRINGS "${build}/CMakeCache.txt" build_type REGEX "^CMAKE_BUILD_TYPE:")
  if(NOT build_type MATCHES "^CMAKE_BUILD_TYPE:[A-Z]*=$")
    message(FATAL_ERROR "Magpie wrote into the parent's cache: ${build_type}")
  endif()
  run(${CMAKE_COMMAND} --build "${build}" -j 2)
  run("${build}/parent_app")
  run(${CMAKE_COMMAND} --install "${build}" --prefix "${WORK_DIR}/prefix")
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer/downstream" -B "${WORK_DIR}/downstream"
      -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} --build "${WORK_DIR}/downstream")
  run("${WORK_DIR}/downstream/downstream_app")
endfunction()

set(libdir "${LIBDIR}")
file(REMOVE_RECURSE "${WORK_DIR}")

if(CASE STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${PREFIX}")
  foreach(tool magpie-topo magpie-stress)
    run("${PREFIX}/bin/${tool}" --help)
  endforeach()
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${WORK_DIR}/build"
      -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX}
      "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}")
  run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
  run("${WORK_DIR}/build/consumer")
elseif(CASE STREQUAL "pkgconfig_cxx")
  pkg_config(flags --cflags --libs)
  separate_arguments(extra UNIX_COMMAND "${CXX_FLAGS} ${LINK_FLAGS}")
  file(MAKE_DIRECTORY "${WORK_DIR}")
  run(${CXX} -std=c++20 ${extra} "${SOURCE_DIR}/tests/consumer/main.cpp" -o "${WORK_DIR}/pc_cxx"
      ${flags})
  run("${WORK_DIR}/pc_cxx")
elseif(CASE STREQUAL "pkgconfig_c")
  # The C flags of the build are the C++ ones minus C++-only options: only the sanitizers.
  string(REGEX MATCHALL "-fsanitize[^ ]*|-fno-sanitize[^ ]*" extra "${CXX_FLAGS} ${LINK_FLAGS}")
  file(MAKE_DIRECTORY "${WORK_DIR}")
  foreach(mode --static "")  # and without: a static libmagpie needs no --static
    pkg_config(flags --cflags --libs ${mode})
    run(${CC} -std=c99 -Wall -Wextra -pedantic ${extra} "${SOURCE_DIR}/tests/consumer/main.c"
        -o "${WORK_DIR}/pc_c" ${flags})
    if(NOT run_err STREQUAL "")
      message(FATAL_ERROR "the C consumer built with warnings:\n${run_err}")
    endif()
    run("${WORK_DIR}/pc_c")
  endforeach()
elseif(CASE STREQUAL "c_only")
  string(REGEX MATCHALL "-fsanitize[^ ]*|-fno-sanitize[^ ]*" extra "${CXX_FLAGS} ${LINK_FLAGS}")
  string(JOIN " " extra ${extra})
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer/c_only" -B "${WORK_DIR}/c_only"
      -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_C_COMPILER=${CC} "-DCMAKE_C_FLAGS=${extra}"
      "-DCMAKE_EXE_LINKER_FLAGS=${extra}")
  run(${CMAKE_COMMAND} --build "${WORK_DIR}/c_only")
  run("${WORK_DIR}/c_only/c_consumer")
elseif(CASE STREQUAL "no_exceptions")
  pkg_config(flags --cflags --libs)
  separate_arguments(extra UNIX_COMMAND "${CXX_FLAGS} ${LINK_FLAGS}")
  file(MAKE_DIRECTORY "${WORK_DIR}")
  set(src "${SOURCE_DIR}/tests/consumer/no_exceptions.cpp")
  set(warn -fno-exceptions -Wall -Wextra -Werror)
  run(${CXX} -std=c++20 ${warn} ${extra} "${src}" -o "${WORK_DIR}/default" ${flags})
  run(${CXX} -std=c++20 ${warn} -DCUSTOM_HANDLER ${extra} "${src}" -o "${WORK_DIR}/custom"
      ${flags})
  run("${WORK_DIR}/default")
  # Each mistake: the message, then abort (a non-zero exit, not the program's own).
  foreach(check "default|closed|magpie: magpie::runtime::submit: runtime is shut down"
                "default|reversed|magpie: magpie::parallel_for: reversed range (last < first)"
                "default|loop|magpie: magpie::parallel_for: runtime is shut down"
                "default|discarded|magpie: magpie::future: the task was discarded"
                "custom|closed|custom handler: magpie::runtime::submit: runtime is shut down")
    string(REPLACE "|" ";" check "${check}")
    list(GET check 0 program)
    list(GET check 1 mistake)
    list(GET check 2 expected)
    execute_process(COMMAND "${WORK_DIR}/${program}" ${mistake} RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out ERROR_VARIABLE err)
    string(FIND "${err}" "${expected}" at)
    if(rc EQUAL 0 OR at EQUAL -1)
      message(FATAL_ERROR "${program} ${mistake}: expected an abort after \"${expected}\", "
                          "got exit ${rc}\n${out}\n${err}")
    endif()
  endforeach()
elseif(CASE STREQUAL "subdirectory")
  check_parent(subdirectory -DMAGPIE_SOURCE_DIR=${SOURCE_DIR})
elseif(CASE STREQUAL "fetchcontent")
  # A git repository of what the library build needs, as the working tree has it now.
  find_program(GIT git REQUIRED)
  set(repo "${WORK_DIR}/magpie.git")
  file(MAKE_DIRECTORY "${repo}")
  file(COPY "${SOURCE_DIR}/CMakeLists.txt" "${SOURCE_DIR}/cmake" "${SOURCE_DIR}/include"
            "${SOURCE_DIR}/runtime" DESTINATION "${repo}")
  run(${GIT} -C "${repo}" init -q)
  run(${GIT} -C "${repo}" add -A)
  run(${GIT} -C "${repo}" -c user.name=test -c user.email=test@localhost commit -q -m snapshot)
  run(${GIT} -C "${repo}" rev-parse HEAD)
  string(STRIP "${run_out}" commit)
  check_parent(fetchcontent -DMAGPIE_GIT_URL=file://${repo} -DMAGPIE_GIT_TAG=${commit})
elseif(CASE STREQUAL "shared")
  set(build "${WORK_DIR}/build")
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${build}" -DBUILD_SHARED_LIBS=ON
      -DCMAKE_BUILD_TYPE=Debug -DMAGPIE_BUILD_PERF=OFF -DMAGPIE_WERROR=ON
      -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_C_COMPILER=${CC})
  # The library, every tool, a suite on internals (magpie_internal) and the C API suite.
  run(${CMAKE_COMMAND} --build "${build}" -j 2 --target magpie magpie-topo magpie-stress
      magpie-trace-demo test_victim_rings test_c_api)
  file(GLOB so "${build}/libmagpie.so.*.*")
  run(nm -D --defined-only -C "${so}")
  if(NOT run_out MATCHES "magpie_runtime_create" OR run_out MATCHES "magpie::detail::to_string")
    message(FATAL_ERROR "libmagpie.so must export the API and hide the internals:\n${run_out}")
  endif()
  run("${build}/tests/test_victim_rings")
  run("${build}/tests/test_c_api")
  run("${build}/tools/magpie-topo" --workers 2)
  run("${build}/tools/magpie-stress" --seconds 1 --max-workers 4)
  run(${CMAKE_COMMAND} --install "${build}" --prefix "${WORK_DIR}/prefix")
  run("${WORK_DIR}/prefix/bin/magpie-stress" --help)  # finds bin/../lib/libmagpie.so
else()
  message(FATAL_ERROR "unknown CASE '${CASE}'")
endif()
message(STATUS "${CASE}: OK")
