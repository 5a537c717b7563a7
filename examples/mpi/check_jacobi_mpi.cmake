# Runs jacobi_mpi under mpiexec and fails unless it exits 0 having printed its "verify: ... ok"
# line. Usage: cmake -DMPIEXEC=... -DRANKS=N -DPROGRAM=... [-DARGS=a;b] [-DOPEN_MPI_FLAGS=a;b]
#              -P check_jacobi_mpi.cmake
# Open MPI needs --oversubscribe to start more ranks than cores, and --allow-run-as-root to start
# at all as root; other MPIs neither need nor know them.
execute_process(COMMAND ${MPIEXEC} --version OUTPUT_VARIABLE version ERROR_VARIABLE version)
set(flags)
if(version MATCHES "Open MPI|OpenRTE")
  set(flags --oversubscribe ${OPEN_MPI_FLAGS})
  execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(uid STREQUAL "0")
    list(APPEND flags --allow-run-as-root)
  endif()
endif()
set(command ${MPIEXEC} -n ${RANKS} ${flags} ${PROGRAM} ${ARGS})
string(REPLACE ";" " " shown "${command}")
message(STATUS "${shown}")
execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc STREQUAL "0")
  message(FATAL_ERROR "jacobi_mpi under mpiexec exited with '${rc}'")
endif()
if(NOT out MATCHES "verify: [^\n]*: ok")
  message(FATAL_ERROR "jacobi_mpi did not report a successful check against the serial run")
endif()
