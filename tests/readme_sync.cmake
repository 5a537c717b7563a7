# ctest driver: the first C++ block of README.md must be the example compiled by
# tests/readme_example.cpp (between its "README example begins/ends" markers).
# Input: SOURCE_DIR.
file(READ "${SOURCE_DIR}/README.md" readme)
file(READ "${SOURCE_DIR}/tests/readme_example.cpp" test)
string(REGEX MATCH "```cpp\n([^`]*)```" _ "${readme}")
set(from_readme "${CMAKE_MATCH_1}")
string(REGEX MATCH "// README example begins\n(.*)// README example ends" _ "${test}")
set(from_test "${CMAKE_MATCH_1}")
if(from_readme STREQUAL "" OR NOT from_readme STREQUAL from_test)
  message(FATAL_ERROR "README.md's example differs from tests/readme_example.cpp:\n"
                      "--- README ---\n${from_readme}\n--- test ---\n${from_test}")
endif()
