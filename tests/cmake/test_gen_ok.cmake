# What the generators write for folders that fit: bt_apps[] in the list's order, and each
# app's migration table in version order with the name from the file name, the SQL bytes
# embedded as they are, dot files ignored; an app without sql/ files gets an empty table.
include(${CMAKE_CURRENT_LIST_DIR}/fixture.cmake)
fixture_reset()
fixture_app(zeta 0002_orders_and_items.sql 0001_users.sql 0010_j.sql 0003_c.sql 0004_d.sql
             0005_e.sql 0006_f.sql 0007_g.sql 0008_h.sql 0009_i.sql)
file(WRITE ${WORK}/apps/zeta/sql/.0011_swap.sql.swp "not a migration")
fixture_app(alpha)

expect_ok(apps "zeta,alpha" apps_c)
expect_contains("${apps_c}" "const struct bt_app *const bt_apps[] = {\n    &bt_app_zeta,\n    &bt_app_alpha,\n    NULL,\n};")
expect_contains("${apps_c}" "extern const struct bt_app bt_app_zeta;")

expect_ok(migrations zeta mig_c)
expect_contains("${mig_c}" "const struct bt_migration zeta_migrations[] = {\n    {1, \"users\", zeta_sql_0001_users},\n    {2, \"orders_and_items\", zeta_sql_0002_orders_and_items},\n    {3, \"c\", zeta_sql_0003_c},")
expect_contains("${mig_c}" "    {10, \"j\", zeta_sql_0010_j},\n    BT_MIGRATION_END,\n};")
string(FIND "${mig_c}" "swap" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "a dot file was embedded:\n${mig_c}")
endif()
# "-- 0001_users.sql\n" starts the embedded bytes of version 1, NUL-terminated at the end
expect_contains("${mig_c}" "zeta_sql_0001_users[] = {0x2d,0x2d,0x20,0x30,0x30,0x30,0x31,")
expect_contains("${mig_c}" "0x29,0x3b,0x0a,0x00};")

expect_ok(migrations alpha empty_c)
expect_contains("${empty_c}" "const struct bt_migration alpha_migrations[] = {\n    BT_MIGRATION_END,\n};")

# no sql/ folder at all is the same as an empty one
file(REMOVE_RECURSE ${WORK}/apps/alpha/sql)
expect_ok(migrations alpha none_c)
expect_contains("${none_c}" "const struct bt_migration alpha_migrations[] = {\n    BT_MIGRATION_END,\n};")
