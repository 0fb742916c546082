# BentoApps.cmake - the services linked into bento and their migrations, derived from ONE list
# (BENTO_APPS in the top CMakeLists.txt) and from the files in apps/<app>/sql/. Nothing else
# lists them by hand (docs/CORE-MODULES.md, "Apps and migrations from the build"):
#   - src/apps.c is not written by hand: bt_apps[] is generated from BENTO_APPS
#     (bento_apps_source), in the list's order;
#   - each app's `const struct bt_migration <app>_migrations[]` is generated from its
#     sql/NNNN_name.sql files (bento_migrations_source): version from NNNN, name from the file
#     name after the prefix (0003_orders.sql is version 3, "orders");
#   - any mismatch stops the build with a message naming the file or the app.
# Every function here works at configure time and in script mode (cmake -P, see
# cmake/BentoAppsRun.cmake), so the checks are testable on fixture folders
# (tests/cmake/test_*.cmake).

# bento_gen_fail(<text>...): stop with the pieces joined as one message.
function(bento_gen_fail)
  set(msg "")
  math(EXPR last "${ARGC} - 1")
  foreach(i RANGE ${last})
    string(APPEND msg "${ARGV${i}}")
  endforeach()
  message(FATAL_ERROR "bento: ${msg}")
endfunction()

# bento_apps_check(<apps_dir> <app>...): every listed app is a folder with an app.c, every
# folder of <apps_dir> is listed, names are C identifiers and appear once.
function(bento_apps_check apps_dir)
  set(apps ${ARGN})
  if(NOT apps)
    bento_gen_fail("BENTO_APPS is empty: list at least one service")
  endif()
  set(seen "")
  foreach(app ${apps})
    if(NOT app MATCHES "^[a-z][a-z0-9_]*$")
      bento_gen_fail("BENTO_APPS: service name '${app}' must be lower-case letters, digits "
                     "and _, starting with a letter (it names C symbols: bt_app_${app})")
    endif()
    if(app IN_LIST seen)
      bento_gen_fail("BENTO_APPS lists '${app}' twice")
    endif()
    list(APPEND seen ${app})
    if(NOT IS_DIRECTORY "${apps_dir}/${app}")
      bento_gen_fail("BENTO_APPS lists '${app}' but there is no folder apps/${app}/")
    endif()
    if(NOT EXISTS "${apps_dir}/${app}/app.c")
      bento_gen_fail("apps/${app}/ has no app.c (it defines `const struct bt_app bt_app_${app}`)")
    endif()
  endforeach()
  file(GLOB entries LIST_DIRECTORIES true RELATIVE "${apps_dir}" "${apps_dir}/*")
  foreach(e ${entries})
    if(IS_DIRECTORY "${apps_dir}/${e}" AND NOT e MATCHES "^\\." AND NOT e IN_LIST apps)
      bento_gen_fail("apps/${e}/ is not in BENTO_APPS (CMakeLists.txt): add it to the list, "
                     "or move the folder out of apps/")
    endif()
  endforeach()
endfunction()

# bento_migrations_scan(<app> <sql_dir> <out_var>): the app's migrations in version order, as
# a list of "version:name:file". Dot files are ignored (editor swap files); anything else in
# sql/ must be NNNN_name.sql, versions unique and contiguous from 1. No sql/ folder or an
# empty one is an app without tables.
function(bento_migrations_scan app dir out)
  set(result "")
  set(max 0)
  if(IS_DIRECTORY "${dir}")
    file(GLOB entries LIST_DIRECTORIES true RELATIVE "${dir}" "${dir}/*")
    list(SORT entries)
    foreach(f ${entries})
      if(f MATCHES "^\\.")
        continue()
      endif()
      if(IS_DIRECTORY "${dir}/${f}")
        bento_gen_fail("apps/${app}/sql/${f}/ is a folder; apps/${app}/sql/ holds only "
                       "migration files named NNNN_name.sql")
      endif()
      if(NOT f MATCHES "^([0-9][0-9][0-9][0-9])_([a-z0-9][a-z0-9_]*)\\.sql$")
        bento_gen_fail("apps/${app}/sql/${f}: a migration file is named NNNN_name.sql (four "
                       "digits, _, then lower-case letters, digits and _), e.g. 0004_invoices.sql")
      endif()
      set(name "${CMAKE_MATCH_2}")
      string(REGEX REPLACE "^0+" "" v "${CMAKE_MATCH_1}")
      if(v STREQUAL "")
        bento_gen_fail("apps/${app}/sql/${f}: versions start at 0001")
      endif()
      if(DEFINED _bento_mig_${v})
        bento_gen_fail("apps/${app}/sql/: version ${v} twice: ${_bento_mig_${v}} and ${f}")
      endif()
      set(_bento_mig_${v} "${f}")
      set(_bento_name_${v} "${name}")
      if(v GREATER max)
        set(max ${v})
      endif()
    endforeach()
  endif()
  if(max GREATER 0)
    foreach(v RANGE 1 ${max})
      if(NOT DEFINED _bento_mig_${v})
        bento_gen_fail("apps/${app}/sql/: versions must run 1, 2, 3, ... without gaps; "
                       "version ${v} is missing (the highest is ${max}, ${_bento_mig_${max}})")
      endif()
      list(APPEND result "${v}:${_bento_name_${v}}:${_bento_mig_${v}}")
    endforeach()
  endif()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

# bento_migrations_source(<app> <sql_dir> <out_file>): writes the C source defining
#   const struct bt_migration <app>_migrations[]
# with each file's bytes embedded (the SQL stays a plain file that sqlite3 or psql can read).
function(bento_migrations_source app dir out_file)
  bento_migrations_scan(${app} "${dir}" migs)
  string(CONCAT text "/* generated from apps/${app}/sql/ by cmake/BentoApps.cmake; do not edit */\n"
         "#include <stddef.h>\n\n#include <bento/migrate.h>\n\n")
  set(table "")
  foreach(m ${migs})
    string(REPLACE ":" ";" parts "${m}")
    list(GET parts 0 v)
    list(GET parts 1 name)
    list(GET parts 2 f)
    string(REGEX REPLACE "\\.sql$" "" base "${f}")
    string(MAKE_C_IDENTIFIER "${app}_sql_${base}" sym)
    file(READ "${dir}/${f}" hex HEX)
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
    string(APPEND text "static const char ${sym}[] = {${bytes}0x00};\n")
    string(APPEND table "    {${v}, \"${name}\", ${sym}},\n")
  endforeach()
  string(APPEND text "\nextern const struct bt_migration ${app}_migrations[];\n"
         "const struct bt_migration ${app}_migrations[] = {\n${table}    BT_MIGRATION_END,\n};\n")
  file(CONFIGURE OUTPUT "${out_file}" CONTENT "${text}" @ONLY)
endfunction()

# bento_apps_source(<out_file> <app>...): writes the C source defining bt_apps[] (src/apps.h),
# NULL-terminated, in the list's order (the order of start-up and of `bento --help`).
function(bento_apps_source out_file)
  string(CONCAT text "/* generated from BENTO_APPS (CMakeLists.txt) by cmake/BentoApps.cmake; "
         "do not edit */\n#include <stddef.h>\n\n#include \"apps.h\"\n\n")
  set(list "")
  foreach(app ${ARGN})
    string(APPEND text "extern const struct bt_app bt_app_${app};\n")
    string(APPEND list "    &bt_app_${app},\n")
  endforeach()
  string(APPEND text "\nconst struct bt_app *const bt_apps[] = {\n${list}    NULL,\n};\n")
  file(CONFIGURE OUTPUT "${out_file}" CONTENT "${text}" @ONLY)
endfunction()
