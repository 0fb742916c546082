# A file in sql/ that is not NNNN_name.sql stops the build, naming the file: it would
# otherwise never be applied.
include(${CMAKE_CURRENT_LIST_DIR}/fixture.cmake)
foreach(bad 001_users.sql 0001-users.sql 0001_Users.sql 0001_users.SQL 0001_.sql 00001_users.sql
            users.sql notes.txt)
  fixture_reset()
  fixture_app(demo 0001_users.sql)
  file(WRITE ${WORK}/apps/demo/sql/${bad} "SELECT 1;\n")
  expect_fail(migrations demo "apps/demo/sql/${bad}: a migration file is named NNNN_name.sql")
endforeach()
# a folder inside sql/ is not a migration either
fixture_reset()
fixture_app(demo 0001_users.sql)
file(MAKE_DIRECTORY ${WORK}/apps/demo/sql/0002_more)
expect_fail(migrations demo "apps/demo/sql/0002_more/ is a folder")
