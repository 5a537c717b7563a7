# ctest -P script: the command-line surface of magpie-stress and of the scripts in tools/.
# --help exits 0 and explains every option (no "# " comment prefixes, no shell code); a bad or
# missing argument exits 2 with the usage on stderr; magpie-stress reports progress on stderr.
# Inputs: STRESS (magpie-stress), TRACE_DEMO (magpie-trace-demo), PYTHON (python3, optional),
# SOURCE_DIR. (magpie-topo has its own check: check_topo_cli.cmake.)
function(expect code)  # expect(CODE [MATCH regex] [NO_MATCH regex] COMMAND ...)
  cmake_parse_arguments(arg "" "MATCH;NO_MATCH" "COMMAND" ${ARGN})
  execute_process(COMMAND ${arg_COMMAND} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  set(all "${out}${err}")
  if(NOT rc EQUAL code OR (arg_MATCH AND NOT all MATCHES "${arg_MATCH}")
     OR (arg_NO_MATCH AND all MATCHES "${arg_NO_MATCH}"))
    message(FATAL_ERROR "${arg_COMMAND}: exit ${rc}, expected ${code}; output:\n${all}")
  endif()
endfunction()

set(help_noise "(^|\n)# |set -euo")
foreach(option --seconds --tasks --seed --max-workers --probe-ms "-h, --help")
  expect(0 MATCH "\n  ${option}" COMMAND ${STRESS} --help)
endforeach()
foreach(args "--seconds" "--seconds;0" "--seconds;abc" "--tasks;-3" "--seed;1x"
             "--max-workers;0" "--probe-ms" "--frobnicate;1")
  expect(2 MATCH "magpie-stress: .*usage: magpie-stress" COMMAND ${STRESS} ${args})
endforeach()
# Progress once a second: a 2.5 s run prints at least one line.
expect(0 MATCH "magpie-stress: [0-9]+ rounds, [0-9]+ tasks, [0-9]+ s\n"
       COMMAND ${STRESS} --seconds 2.5 --max-workers 2 --seed 7)

set(tools "${SOURCE_DIR}/tools")
expect(0 MATCH "--preset NAME .*-h, --help" NO_MATCH "${help_noise}"
       COMMAND ${tools}/run-tests --help)
expect(2 MATCH "--preset needs a value.*Usage:" COMMAND ${tools}/run-tests --preset)
expect(2 MATCH "unknown preset" COMMAND ${tools}/run-tests --preset banana)
expect(2 MATCH "unknown argument" COMMAND ${tools}/run-tests --frobnicate)
foreach(option --seed --min-time --timeout --build-dir --workers --only --schedulers)
  expect(0 MATCH "\n  ${option} " NO_MATCH "${help_noise}" COMMAND ${tools}/run-benchmarks --help)
endforeach()
foreach(option --build-dir --seed --min-time --timeout --only)
  expect(2 MATCH "${option} needs a value.*Usage:" COMMAND ${tools}/run-benchmarks ${option})
endforeach()
expect(2 MATCH "unknown argument" COMMAND ${tools}/run-benchmarks --frobnicate)
expect(0 MATCH "PACKAGE" NO_MATCH "${help_noise}" COMMAND ${tools}/ensure-deps --help)
expect(2 MATCH "unknown option" COMMAND ${tools}/ensure-deps --frobnicate)

expect(0 MATCH "usage: magpie-trace-demo \\[OUT\\]" COMMAND ${TRACE_DEMO} --help)
expect(2 MATCH "usage: magpie-trace-demo" COMMAND ${TRACE_DEMO} --frobnicate)
if(PYTHON)
  # (bench_charts.py too, but it imports matplotlib first, which this python may not have.)
  foreach(script bench_table.py trace_html.py bench_suite.py)
    expect(0 MATCH "[Uu]sage:" COMMAND ${PYTHON} ${tools}/${script} --help)
    expect(2 MATCH "[Uu]sage:" COMMAND ${PYTHON} ${tools}/${script} --frobnicate)
  endforeach()
endif()
