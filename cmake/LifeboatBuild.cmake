# Compiler settings shared by every target: warnings as errors, ccache when
# present, sanitizers on request.

find_program(LIFEBOAT_CCACHE ccache)
if(LIFEBOAT_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${LIFEBOAT_CCACHE})
endif()

add_compile_options(-Wall -Wextra -Werror)

if(LIFEBOAT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

# The fuzz build (clang): every library carries libFuzzer's coverage
# instrumentation and ASan+UBSan; only fuzz/ targets link libFuzzer itself.
# UBSan findings abort so that libFuzzer records them as crashes.
if(LIFEBOAT_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

# lifeboat_test(NAME SOURCES... LIBS ... [LABELS ...]) adds a GoogleTest
# executable and registers each of its tests with ctest.
function(lifeboat_test name)
  cmake_parse_arguments(arg "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE ${arg_LIBS} lifeboat_test_support GTest::gmock
                                        GTest::gtest_main)
  set(labels unit)
  if(arg_LABELS)
    set(labels ${arg_LABELS})
  endif()
  # One variable per ENVIRONMENT / ENVIRONMENT_MODIFICATION: gtest_discover_tests
  # splits a ';'-separated list into separate properties.
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 30 PROPERTIES LABELS "${labels}"
                       ENVIRONMENT "LIFEBOAT_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
                       ENVIRONMENT_MODIFICATION "LIFEBOAT_BINARY_DIR=set:${PROJECT_BINARY_DIR}")
endfunction()
