# Script mode helper for bento_embed_docs_assets: writes every file of FILES (names in DIR) as
# a byte array and a table of them (struct bt_docs_asset, src/http/docs.h). The version goes
# into every served name ("swagger-ui-5.35.0.css"), so the URLs can be cached for a year.
set(text "/* generated from tools/npm/node_modules/swagger-ui-dist ${VERSION} by \
cmake/BentoEmbedAssetsRun.cmake; do not edit */\n#include \"http/docs.h\"\n\n")
set(table "")
set(i 0)
foreach(name ${FILES})
  file(READ ${DIR}/${name} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # "swagger-ui-bundle.js" -> "swagger-ui-bundle-5.35.0.js"
  string(REGEX REPLACE "^(.*)(\\.[a-z]+)$" "\\1-${VERSION}\\2" served "${name}")
  string(APPEND text "static const unsigned char asset${i}[] = {${bytes}};\n")
  string(APPEND table "    {\"${served}\", asset${i}, ${len}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND text "\nconst struct bt_docs_asset bt_docs_assets[] = {\n${table}    {0},\n};\n")
file(WRITE ${OUT} "${text}")
