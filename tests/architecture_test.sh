#!/usr/bin/env bash
# net/ knows no ImGui or GLFW; ui/ touches no socket or asio; no third-party source is
# copied into the repository; no window keeps hidden static state.
set -u
root="$1"
fail=0
if grep -rnE '#include *[<"](imgui|GLFW|backends/)' "$root/net"; then
  echo "net/ must not include ImGui or GLFW"; fail=1
fi
if grep -rnE '#include *[<"](asio|sys/socket|netinet|arpa/)|asio::|::socket\(' "$root/ui"; then
  echo "ui/ must not use sockets or asio"; fail=1
fi
if grep -rnE '^\s*static\s+[^(]*=' "$root/ui"/*.cpp; then
  echo "ui/ windows keep their state in their state structs, not in statics"; fail=1
fi
if find "$root" -path "$root/build*" -prune -o \( -name 'imgui.cpp' -o -name 'asio.hpp' -o -name 'json.hpp' -o -name 'readerwriterqueue.h' -o -name 'CLI11.hpp' \) -print | grep .; then
  echo "third-party source must come from Debian packages, not the repository"; fail=1
fi
[ $fail -eq 0 ] && echo "layers ok"
exit $fail
