# Versions must run 1, 2, 3, ...: a gap, or a first version other than 1, stops the build.
include(${CMAKE_CURRENT_LIST_DIR}/fixture.cmake)
fixture_reset()
fixture_app(demo 0001_users.sql 0003_orders.sql)
expect_fail(migrations demo "apps/demo/sql/: versions must run 1, 2, 3, ... without gaps; version 2 is missing")

fixture_reset()
fixture_app(demo 0002_users.sql)
expect_fail(migrations demo "version 1 is missing (the highest is 2, 0002_users.sql)")

fixture_reset()
fixture_app(demo 0000_users.sql 0001_orders.sql)
expect_fail(migrations demo "apps/demo/sql/0000_users.sql: versions start at 0001")
