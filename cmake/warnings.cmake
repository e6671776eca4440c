# Per-target warnings (not global flags) so third-party headers we include as SYSTEM
# stay quiet and our own code is held to the strict set.
function(lanchat_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports std::variant/std::string moves as "maybe uninitialized" (GCC bug
    # 105562 and relatives); the reports are false and fire inside libstdc++.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
  if(LANCHAT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
