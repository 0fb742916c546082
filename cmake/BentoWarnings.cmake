# Warnings for bento's own code (Kore's list and more); -Werror with BENTO_WERROR=ON (CI).
function(bento_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
    -Wimplicit-fallthrough -Wpointer-arith -Wcast-qual -Wundef -Wwrite-strings
    -Wold-style-definition -Wnull-dereference -fno-common)
  if(BENTO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
