# ctest -P script: magpie-topo's --json output parses as JSON and describes the plan asked for,
# and bad arguments exit with status 2. Inputs: TOOL (magpie-topo), PYTHON (python3).
set(desc "package:2 numa:2 l3:4 core:8 pu:2")
execute_process(
  COMMAND ${TOOL} --synthetic ${desc} --pin scatter --workers 8 --json
  COMMAND ${PYTHON} -c [=[
import json, sys
d = json.load(sys.stdin)
assert d["topology"]["pus"] == 256 and d["topology"]["numa_nodes"] == 4, d["topology"]
w = d["workers"]
assert [x["pu"] for x in w] == [0, 128, 64, 192, 16, 144, 80, 208], w
assert [r["distance"] for r in w[0]["rings"]] == ["numa", "package", "machine"], w[0]
assert all(sorted(v for r in x["rings"] for v in r["victims"]) ==
           [v for v in range(8) if v != x["worker"]] for x in w)
]=]
  RESULTS_VARIABLE codes)
if(NOT codes STREQUAL "0;0")
  message(FATAL_ERROR "magpie-topo --json: exit codes ${codes} (tool;python), expected 0;0")
endif()

foreach(args "--pin;sideways" "--workers;-3" "--cpus;1,,2" "--frobnicate" "--workers"
             "--synthetic;package:banana")
  execute_process(COMMAND ${TOOL} ${args} RESULT_VARIABLE code ERROR_VARIABLE err OUTPUT_QUIET)
  if(NOT code EQUAL 2 OR NOT err MATCHES "magpie-topo: ")
    message(FATAL_ERROR "magpie-topo ${args}: exit ${code} and '${err}', expected 2 and a message")
  endif()
endforeach()
