# Two files with one version stop the build, naming both.
include(${CMAKE_CURRENT_LIST_DIR}/fixture.cmake)
fixture_reset()
fixture_app(demo 0001_users.sql 0002_materials.sql 0002_orders.sql)
expect_fail(migrations demo "apps/demo/sql/: version 2 twice: 0002_materials.sql and 0002_orders.sql")
