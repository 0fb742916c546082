# bento_embed_sql(<target> <app> <dir>): every <dir>/NNNN_name.sql becomes
#   const char <app>_sql_NNNN_name[]
# in a generated source compiled into <target>, so SQL stays reviewable as plain files and
# can be piped into sqlite3 or psql as it is.
function(bento_embed_sql target app dir)
  file(GLOB sqls CONFIGURE_DEPENDS ${dir}/*.sql)
  if(NOT sqls)
    return()
  endif()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${app}_sql.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DAPP=${app} -DOUT=${out} "-DFILES=${sqls}"
            -P ${PROJECT_SOURCE_DIR}/cmake/BentoEmbedRun.cmake
    DEPENDS ${sqls} ${PROJECT_SOURCE_DIR}/cmake/BentoEmbedRun.cmake
    COMMENT "embedding SQL of ${app}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
