# -DBENTO_SANITIZE=address,undefined builds everything with those sanitizers and makes any
# report fatal (as Redis's SANITIZER= and git's SANITIZE= do).
if(BENTO_SANITIZE)
  add_compile_options(-fsanitize=${BENTO_SANITIZE} -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${BENTO_SANITIZE})
endif()
