# bento_embed_docs_assets(<target>): the /docs viewer's third-party files (swagger-ui-dist,
# installed from tools/npm/package-lock.json by scripts/bootstrap.sh, never committed) become
# byte arrays in a generated source compiled into <target>, so the binary stays one file and
# nothing is fetched at run time. Which files: BENTO_DOCS_ASSETS below (src/http/docs.c gives
# each its media type by extension).
# A missing or different installed version stops the configure step with what to run.
set(BENTO_DOCS_ASSETS swagger-ui-bundle.js swagger-ui.css favicon-32x32.png favicon-16x16.png)

function(bento_embed_docs_assets target)
  set(tools ${PROJECT_SOURCE_DIR}/tools/npm)
  set(dir ${tools}/node_modules/swagger-ui-dist)
  file(READ ${tools}/package.json pkg)
  string(JSON want GET "${pkg}" dependencies swagger-ui-dist)
  set(fix "run scripts/bootstrap.sh (it installs tools/npm/package-lock.json with npm)")
  if(NOT EXISTS ${dir}/package.json)
    message(FATAL_ERROR "the /docs viewer (swagger-ui-dist ${want}) is not installed in "
                        "tools/npm/node_modules: ${fix}")
  endif()
  file(READ ${dir}/package.json got_pkg)
  string(JSON got GET "${got_pkg}" version)
  if(NOT got STREQUAL want)
    message(FATAL_ERROR "tools/npm/node_modules has swagger-ui-dist ${got}, package.json pins "
                        "${want}: ${fix}")
  endif()
  # a re-install (another version) re-runs this check
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${dir}/package.json
                                                                 ${tools}/package.json)
  set(files)
  foreach(name ${BENTO_DOCS_ASSETS})
    if(NOT EXISTS ${dir}/${name})
      message(FATAL_ERROR "tools/npm/node_modules/swagger-ui-dist/${name} is missing: ${fix}")
    endif()
    list(APPEND files ${dir}/${name})
  endforeach()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/bento_docs_assets.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DDIR=${dir} -DVERSION=${want} "-DFILES=${BENTO_DOCS_ASSETS}"
            -P ${PROJECT_SOURCE_DIR}/cmake/BentoEmbedAssetsRun.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/BentoEmbedAssetsRun.cmake
    COMMENT "embedding the /docs viewer (swagger-ui-dist ${want})"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
  target_compile_definitions(${target} PRIVATE BENTO_DOCS_VIEWER_VERSION="${want}")
endfunction()
