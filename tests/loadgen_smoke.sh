#!/usr/bin/env bash
# The benchmark's load generator against a real headless host on 127.0.0.1, small: every
# message must arrive once, in order, and the report must be one JSON line saying so.
#   loadgen_smoke.sh LANCHAT LOADGEN
set -euo pipefail
lanchat=$1 loadgen=$2
out=$(mktemp -d)
trap 'kill "$host" 2>/dev/null || true; rm -rf "$out"' EXIT
"$lanchat" host --headless --bind 127.0.0.1 --port 0 --max-msg-rate 0 --max-line-rate 0 --no-store >"$out/host.log" 2>&1 &
host=$!
for _ in $(seq 100); do grep -q "^listening on" "$out/host.log" && break; sleep 0.1; done
port=$(sed -nE '1s/^listening on 127\.0\.0\.1:([0-9]+)$/\1/p' "$out/host.log")
[[ -n "$port" ]] || { cat "$out/host.log"; exit 1; }
"$loadgen" --proto lanchat --port "$port" --server-pid "$host" --clients 20 --senders 4 \
  --messages 500 --timeout 30 >"$out/report.json"
python3 - "$out/report.json" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read())
print(json.dumps(r))
assert r["result"] == "complete", r["result"]
assert r["deliveries_expected"] == 4 * 500 * 19 == r["deliveries_received"]
assert r["lost"] == r["duplicates"] == r["out_of_order"] == 0
assert r["echoes_received"] == r["echoes_expected"] == 2000
assert r["server_hwm_kib"] > 0 and r["deliveries_per_s"] > 0
PY
