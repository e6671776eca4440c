# Writes a C++ source holding PNG files as byte arrays, so the window can set its icon
# without finding files at run time. Run by the build (cmake -P) with:
#   OUT   the .cpp to write
#   PNGS  the PNG files, smallest first (list separated by |)
string(REPLACE "|" ";" pngs "${PNGS}")
set(body "")
set(table "")
set(i 0)
foreach(png ${pngs})
  file(READ "${png}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR bytes "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "const unsigned char png${i}[] = {${hex}};\n")
  string(APPEND table "    {png${i}, ${bytes}},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE "${OUT}.tmp"
  "// Written by assets/embed_icons.cmake at build time from assets/lanchat.svg.\n"
  "#include \"assets/window_icons.hpp\"\n\n"
  "namespace lanchat::assets {\nnamespace {\n${body}\n"
  "const EmbeddedPng icons[] = {\n${table}};\n}  // namespace\n\n"
  "std::span<const EmbeddedPng> window_icons() {\n  return icons;\n}\n\n"
  "}  // namespace lanchat::assets\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
