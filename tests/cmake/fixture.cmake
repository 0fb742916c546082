# fixture.cmake - shared by tests/cmake/test_*.cmake: each test builds a small apps/ tree in
# WORK (its own folder under the build tree, set by tests/CMakeLists.txt) and runs
# cmake/BentoAppsRun.cmake on it as the build would, checking the outcome.
# Variables from ctest: BENTO_SOURCE_DIR, WORK.
cmake_minimum_required(VERSION 3.25)
if(NOT BENTO_SOURCE_DIR OR NOT WORK)
  message(FATAL_ERROR "run through ctest (needs -DBENTO_SOURCE_DIR and -DWORK)")
endif()
set(RUNNER ${BENTO_SOURCE_DIR}/cmake/BentoAppsRun.cmake)

# fixture_reset(): an empty apps/ folder in WORK.
function(fixture_reset)
  file(REMOVE_RECURSE ${WORK})
  file(MAKE_DIRECTORY ${WORK}/apps ${WORK}/out)
endfunction()

# fixture_app(<name> [sql files...]): apps/<name>/app.c and the given sql/ files, each holding
# a one-line statement naming it.
function(fixture_app name)
  file(WRITE ${WORK}/apps/${name}/app.c "/* ${name} */\n")
  file(MAKE_DIRECTORY ${WORK}/apps/${name}/sql)
  foreach(f ${ARGN})
    file(WRITE ${WORK}/apps/${name}/sql/${f} "-- ${f}\nCREATE TABLE t_${name} (id BIGINT);\n")
  endforeach()
endfunction()

# run_gen(<mode> <app-or-comma-list> <result_var> <stderr_var>)
function(run_gen mode what rc_var err_var)
  if(mode STREQUAL "migrations")
    set(args -DMODE=migrations -DAPP=${what} -DDIR=${WORK}/apps/${what}/sql
             -DOUT=${WORK}/out/${what}_migrations.c)
  else()
    set(args -DMODE=apps -DAPPS_DIR=${WORK}/apps "-DAPPS=${what}" -DOUT=${WORK}/out/apps.c)
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} ${args} -P ${RUNNER} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(${rc_var} "${rc}" PARENT_SCOPE)
  set(${err_var} "${out}${err}" PARENT_SCOPE)
endfunction()

# expect_fail(<mode> <app-or-comma-list> <message>): the generator stops with a message containing
# <message> (a literal string) and writes no output.
function(expect_fail mode what msg)
  run_gen(${mode} "${what}" rc err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "expected the ${mode} generator to fail for '${what}', it succeeded")
  endif()
  string(REPLACE "\n" " " flat "${err}")
  string(REGEX REPLACE " +" " " flat "${flat}")
  string(FIND "${flat}" "${msg}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "expected the message\n  ${msg}\ngot:\n${err}")
  endif()
  file(GLOB outs ${WORK}/out/*)
  if(outs)
    message(FATAL_ERROR "a failed generation left output behind: ${outs}")
  endif()
endfunction()

# expect_ok(<mode> <app-or-comma-list> <out_var>): the generator succeeds; out_var gets the source.
function(expect_ok mode what out_var)
  run_gen(${mode} "${what}" rc err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "expected the ${mode} generator to succeed for '${what}':\n${err}")
  endif()
  if(mode STREQUAL "migrations")
    file(READ ${WORK}/out/${what}_migrations.c text)
  else()
    file(READ ${WORK}/out/apps.c text)
  endif()
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

# expect_contains(<text> <literal>)
function(expect_contains text literal)
  string(FIND "${text}" "${literal}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "expected\n  ${literal}\nin:\n${text}")
  endif()
endfunction()
