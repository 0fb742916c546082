# BentoAppsRun.cmake - script-mode entry to cmake/BentoApps.cmake:
#   cmake -DMODE=migrations -DAPP=<app> -DDIR=<apps/app/sql> -DOUT=<file.c> -P BentoAppsRun.cmake
#   cmake -DMODE=apps -DAPPS_DIR=<apps> -DAPPS=a,b -DOUT=<file.c> -P BentoAppsRun.cmake
# The build runs the first for each app (so an edited .sql is embedded again); the tests in
# tests/cmake/ run both on fixture folders.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/BentoApps.cmake)

if(MODE STREQUAL "migrations")
  bento_migrations_source(${APP} "${DIR}" "${OUT}")
elseif(MODE STREQUAL "apps")
  string(REPLACE "," ";" apps "${APPS}")
  bento_apps_check("${APPS_DIR}" ${apps})
  bento_apps_source("${OUT}" ${apps})
else()
  message(FATAL_ERROR "BentoAppsRun.cmake: MODE must be migrations or apps")
endif()
