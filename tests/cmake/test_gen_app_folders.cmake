# The list of services and the folders under apps/ must agree: a listed service without a
# folder, a folder without app.c, a folder nobody lists, a name that is no C identifier or a
# name listed twice each stop the build with a message naming it.
include(${CMAKE_CURRENT_LIST_DIR}/fixture.cmake)

fixture_reset()
fixture_app(alpha 0001_a.sql)
expect_fail(apps "alpha,beta" "BENTO_APPS lists 'beta' but there is no folder apps/beta/")

fixture_reset()
fixture_app(alpha)
fixture_app(beta)
file(REMOVE ${WORK}/apps/beta/app.c)
expect_fail(apps "alpha,beta" "apps/beta/ has no app.c")

fixture_reset()
fixture_app(alpha)
fixture_app(gamma)
expect_fail(apps "alpha" "apps/gamma/ is not in BENTO_APPS")

fixture_reset()
fixture_app(Alpha-1)
expect_fail(apps "Alpha-1" "service name 'Alpha-1' must be lower-case letters")

fixture_reset()
fixture_app(alpha)
expect_fail(apps "alpha,alpha" "BENTO_APPS lists 'alpha' twice")

fixture_reset()
expect_fail(apps "" "BENTO_APPS is empty")
