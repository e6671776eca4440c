#!/usr/bin/env python3
"""Runs lanchat and its peers (asio's chat example, ngIRCd) through the same scenarios with
bench/loadgen.cpp, all on 127.0.0.1, and prints a markdown table. Called by bench/run,
which builds everything first.

Servers are measured one at a time, interleaved, each rep starting one server later (lanchat,
ngIRCd, asio, then ngIRCd, asio, lanchat, ...), each run on a fresh server process, and each
throughput figure is the median of --reps runs.
Peers do not set TCP_NODELAY, so with a client that leaves delayed ACKs on they stall on
them: every throughput run is made both without and with TCP_QUICKACK on the load
generator's sockets, and a peer is compared by its better figure.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SERVERS = ["lanchat", "irc", "asio"]
NAMES = {"lanchat": "lanchat", "irc": "ngIRCd", "asio": "asio chat example",
         "baseline": "lanchat baseline"}
# Load generator protocol of each server kind.
PROTO = {"lanchat": "lanchat", "baseline": "lanchat", "irc": "irc", "asio": "asio"}
# Variants of this build measured in the same runs: kind -> (name, server flags, loadgen flags).
VARIANTS = {}

# name, loadgen arguments, kind
SCENARIOS = [
    ("10 clients, all sending", ["--clients", "10", "--messages", "30000"], "throughput"),
    ("200 clients, 5 sending", ["--clients", "200", "--senders", "5", "--messages", "3000"],
     "throughput"),
    ("1,000 clients, 1 sending", ["--clients", "1000", "--senders", "1", "--messages", "3000"],
     "throughput"),
    ("paced: 50 clients, 5 send 20/s each",
     ["--clients", "50", "--senders", "5", "--messages", "100", "--rate", "20"], "paced"),
    ("storm: 1,000 connect and join at once",
     ["--clients", "1000", "--senders", "1", "--messages", "1", "--connect-parallel", "0",
      "--settle", "0", "--timeout", "20"], "storm"),
    # Joined 8 at a time: ngIRCd's listen backlog is 10.
    ("1,000 idle clients", ["--clients", "1000", "--senders", "1", "--messages", "1",
                            "--connect-parallel", "8", "--settle", "1", "--timeout", "60"], "idle"),
    ("10,000 idle clients", ["--clients", "10000", "--senders", "1", "--messages", "1",
                             "--connect-parallel", "8", "--settle", "1", "--timeout", "120"],
     "idle"),
    # Everyone connects at once; then one message must reach all of them (the barrier), and
    # one more client joins, timed to its welcome.
    ("large room: 10,000 connect and join at once",
     ["--clients", "10000", "--senders", "1", "--messages", "1", "--connect-parallel", "0",
      "--settle", "0", "--timeout", "60", "--late-joiner"], "large"),
]
# ngIRCd needs about 30 s to seat 1,000 clients (its NAMES replies grow with the channel), so
# 10,000 would not fit in a few minutes: it sits that one out.
SKIP = {("10,000 idle clients", "irc"), ("large room: 10,000 connect and join at once", "irc")}
# The targets for a large room (issue 15, item 3).
LARGE_TARGETS = {"seated_s": 5.0, "peak_mb": 100.0, "late_join_ms": 1000.0}

NGIRCD_CONF = """[Global]
\tName = bench.lanchat.invalid
\tInfo = lanchat benchmark peer
\tAdminInfo1 = lanchat benchmark
\tAdminInfo2 = loopback only
\tAdminEMail = bench@lanchat.invalid
\tListen = 127.0.0.1
\tPorts = {port}
\tMotdPhrase = bench
[Limits]
\tMaxConnections = 0
\tMaxConnectionsIP = 0
\tMaxJoins = 0
\tMaxPenaltyTime = 0
\tPingTimeout = 600
\tPongTimeout = 600
[Options]
\tDNS = no
\tIdent = no
\tPAM = no
[Operator]
\tName = bench
\tPassword = bench
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LIMIT_FLAGS = ["--max-msg-rate", "--max-line-rate", "--max-clients", "--max-per-ip",
               "--max-unjoined-per-ip"]
_known_flags = {}


def lift_limits(binary):
    """The flags that turn a lanchat build's limits off, those this build knows (a baseline
    from an older commit may not have the newer ones)."""
    if binary not in _known_flags:
        helptext = subprocess.run([binary, "host", "--help"], capture_output=True, text=True).stdout
        _known_flags[binary] = [f for f in LIMIT_FLAGS if f in helptext]
    out = []
    for f in _known_flags[binary]:
        out += [f, "0"]
    return out


def fresh_data_env(tmp, **extra):
    """The environment for a lanchat process whose store must start empty."""
    return dict(os.environ, XDG_DATA_HOME=tempfile.mkdtemp(prefix="data-", dir=tmp), **extra)


def wait_listening(port, proc, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start listening")


class Server:
    def __init__(self, kind, args, tmp):
        self.kind, self.args, self.tmp = kind, args, tmp

    def __enter__(self):
        self.port = free_port()
        a = self.args
        env = None
        if self.kind in ("lanchat", "baseline") or self.kind in VARIANTS:
            binary = a.baseline if self.kind == "baseline" else a.lanchat
            cmd = [binary, "host", "--headless", "--bind", "127.0.0.1", "--port", str(self.port)]
            cmd += lift_limits(binary)
            # A fresh store per run, never the user's own. The data home too: a baseline from
            # before --data-dir would otherwise write to ~/.local/share, and a store that
            # grew over earlier runs costs more per message than a fresh one.
            env = fresh_data_env(self.tmp)
            if self.kind != "baseline":
                cmd += ["--data-dir", env["XDG_DATA_HOME"]]
            if self.kind in VARIANTS:
                cmd += VARIANTS[self.kind][1]
        elif self.kind == "asio":
            cmd = [a.asio, str(self.port)]
        else:
            conf = os.path.join(self.tmp, f"ngircd-{self.port}.conf")
            with open(conf, "w") as f:
                f.write(NGIRCD_CONF.format(port=self.port))
            os.chmod(conf, 0o644)
            cmd = [a.ngircd, "-n", "-f", conf]
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        # The probe connection is a client too; every server shrugs it off.
        wait_listening(self.port, self.proc)
        time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_one(args, kind, extra, quickack, tmp):
    with Server(kind, args, tmp) as server:
        cmd = [args.loadgen, "--proto", PROTO.get(kind, "lanchat"), "--port", str(server.port),
               "--server-pid", str(server.proc.pid)] + extra + (["--quickack"] if quickack else [])
        if kind in VARIANTS:
            cmd += VARIANTS[kind][2]
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=600)
        line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "{}"
        r = json.loads(line)
        r["server_cmd"] = " ".join(server.cmd)
        r["loadgen_cmd"] = " ".join(cmd)
        return r


def median_run(runs):
    """The run with the median deliveries/s (a real run, so its other figures match)."""
    ok = sorted(runs, key=lambda r: r.get("deliveries_per_s", 0))
    return ok[len(ok) // 2]


def fmt_int(v):
    return f"{v:,.0f}"


def fmt_ratio(a, b):
    """a/b in bold, or "-" when b is missing (a peer left out with --only-servers)."""
    return f"**{a / b:.2f}x**" if a and b else "-"


def start_xvfb():
    """An Xvfb of its own on a free display number: (process, display)."""
    display = None
    for n in range(70, 99):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            display = f":{n}"
            break
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    return xvfb, display


def bench_mark(win, path):
    """SIGUSR2 to a window started with --bench-report: its figures since the last mark."""
    if os.path.exists(path):
        os.remove(path)
    win.send_signal(signal.SIGUSR2)
    for _ in range(300):
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
        time.sleep(0.1)
    raise RuntimeError("the window wrote no bench report")


def stop_window(win, xvfb):
    win.send_signal(signal.SIGTERM)
    try:
        win.wait(10)
    except subprocess.TimeoutExpired:
        win.kill()
    xvfb.terminate()
    xvfb.wait()


def window_bench(args, tmp):
    """The window under Xvfb, hosting: idle CPU, frame cost with an empty history, with one
    screenful and with 100,000 messages, and event-to-screen delay of paced messages."""
    xvfb, display = start_xvfb()
    env = fresh_data_env(tmp, DISPLAY=display, XDG_CONFIG_HOME=os.path.join(tmp, "config"))
    port = free_port()
    report = os.path.join(tmp, "window-report.json")
    # Every limit lifted: the 100,000-message fill would trip the per-connection line rate.
    cmd = [args.lanchat, "host", "--nick", "teacher", "--bind", "127.0.0.1", "--port", str(port),
           "--bench-report", report] + lift_limits(args.lanchat)
    win = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = {"window_cmd": " ".join(cmd)}
    try:
        wait_listening(port, win)
        time.sleep(3)

        def cpu_ticks():
            with open(f"/proc/{win.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])

        def mark():
            return bench_mark(win, report)

        def load(extra):
            subprocess.run([args.loadgen, "--proto", "lanchat", "--port", str(port), "--clients",
                            "2", "--senders", "1", "--timeout", "120"] + extra,
                           stdout=subprocess.DEVNULL, check=True)

        a = cpu_ticks()
        time.sleep(10)
        out["idle_cpu_pct"] = (cpu_ticks() - a) / os.sysconf("SC_CLK_TCK") / 10 * 100
        out["empty"] = mark()
        load(["--messages", "100", "--rate", "20"])  # one screenful, paced: event-to-screen
        time.sleep(0.5)
        out["screenful"] = mark()
        load(["--messages", "100000", "--window", "256"])
        time.sleep(3)  # the window drains at most 20,000 events a frame
        out["history_100k"] = mark()
    finally:
        stop_window(win, xvfb)
    return out


def thread_ticks(pid):
    """CPU ticks (user + system) of each thread of a process, by thread name (summed)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                head, tail = f.read().rsplit(")", 1)
        except OSError:
            continue
        name = head.split("(", 1)[1]
        fields = tail.split()
        out[name] = out.get(name, 0) + int(fields[11]) + int(fields[12])
    return out


def busy_room_once(args, binary, tmp, tag):
    """The host's window in a busy room under Xvfb: 300 clients, 10 of them sending 50
    messages/s each for 12 s. The window process's CPU per thread while that runs, how long
    chat messages took from the net thread to the screen, and how long after the 300 left
    the users list showed only the host."""
    xvfb, display = start_xvfb()
    env = dict(os.environ, DISPLAY=display, XDG_CONFIG_HOME=os.path.join(tmp, f"config-{tag}"))
    port = free_port()
    bench_report = os.path.join(tmp, f"busy-{tag}-bench.json")
    test_report = os.path.join(tmp, f"busy-{tag}-facts.json")
    cmd = [binary, "host", "--nick", "teacher", "--bind", "127.0.0.1", "--port", str(port),
           "--no-store", "--no-discovery", "--bench-report", bench_report,
           "--test-report", test_report] + lift_limits(binary)
    win = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = {}
    try:
        wait_listening(port, win)
        time.sleep(3)

        def mark():
            return bench_mark(win, bench_report)

        def users_shown():
            try:
                with open(test_report) as f:
                    return len(json.load(f).get("facts", {}).get("users") or [])
            except (OSError, ValueError):
                return None

        def report():
            try:
                with open(test_report) as f:
                    return json.load(f)
            except (OSError, ValueError):
                return {}

        def xdo(*a):
            return subprocess.run(["xdotool", *a], env=env, capture_output=True, text=True).stdout

        # Typing during the load: a key press to the character in the input on screen.
        wid = xdo("search", "--name", "lanchat$").split()[0]
        x0, y0, x1, y1 = report()["widgets"]["chat.input"]
        xdo("windowfocus", "--sync", wid)
        xdo("mousemove", "--window", wid, str(int((x0 + x1) / 2)), str(int((y0 + y1) / 2)))
        xdo("click", "1")
        time.sleep(0.5)

        mark()  # starts event-to-screen afresh
        time.sleep(2)
        before, t0 = thread_ticks(win.pid), time.time()
        load = subprocess.Popen([args.loadgen, "--proto", "lanchat", "--port", str(port),
                                 "--clients", "300", "--senders", "10", "--rate", "50",
                                 "--messages", "600", "--connect-parallel", "8", "--timeout", "120"],
                                stdout=subprocess.DEVNULL)
        time.sleep(6)  # seated, and sending
        typed = []
        for i in range(10):
            start = time.time()
            xdo("type", "x")
            while time.time() - start < 2 and len(report().get("facts", {}).get("input", "")) <= i:
                time.sleep(0.001)
            typed.append((time.time() - start) * 1000)
            time.sleep(0.2)
        out["typing_ms"] = sorted(typed)
        if load.wait(120) != 0:
            raise RuntimeError("the load generator failed")
        left = time.time()
        after = thread_ticks(win.pid)
        seconds = left - t0
        hz = os.sysconf("SC_CLK_TCK")
        threads = {k: (after.get(k, 0) - before.get(k, 0)) / hz / seconds for k in after}
        out["seconds"] = seconds
        out["cpu_cores"] = sum(threads.values())
        out["threads"] = dict(sorted(((k, v) for k, v in threads.items() if v >= 0.005),
                                     key=lambda kv: -kv[1]))
        while time.time() - left < 10 and users_shown() != 1:  # the host alone
            time.sleep(0.002)
        out["users_settled_ms"] = (time.time() - left) * 1000 if users_shown() == 1 else None
        out["event_to_screen_us"] = mark()["event_to_screen_us"]
    finally:
        stop_window(win, xvfb)
    return out


def settled_text(ms):
    """How long the users list took to show only the host (None: it never did)."""
    return f"{ms:.0f} ms" if ms is not None else "not within 10 s"


def busy_room_bench(args, tmp, reps=3):
    """busy_room_once for this build and, with --baseline, the baseline, interleaved."""
    builds = [("lanchat", args.lanchat)] + ([("baseline", args.baseline)] if args.baseline else [])
    runs = {name: [] for name, _ in builds}
    for rep in range(reps):
        for name, binary in builds:
            r = busy_room_once(args, binary, tmp, f"{name}-{rep}")
            print(f"  busy room [{name}]: {r['cpu_cores']:.2f} cores, event to screen p99 "
                  f"{r['event_to_screen_us']['p99'] / 1000:.1f} ms, users settled "
                  f"{settled_text(r['users_settled_ms'])}", file=sys.stderr)
            runs[name].append(r)
    return {name: sorted(rs, key=lambda r: r["cpu_cores"])[len(rs) // 2] for name, rs in runs.items()}


def print_busy_room(b):
    print("### The host's window in a busy room (Xvfb, llvmpipe; 300 clients, 10 send 50/s; "
          "median of runs by CPU)\n")
    names = list(b)
    print("| figure | " + " | ".join(NAMES.get(n, n) for n in names) + " |")
    print("|---|" + "---|" * len(names))
    print("| window process CPU | " + " | ".join(f"{b[n]['cpu_cores']:.2f} cores" for n in names) + " |")
    threads = sorted({t for n in names for t in list(b[n]["threads"])[:4]})
    for t in threads:
        print(f"| thread {t} | " + " | ".join(f"{b[n]['threads'].get(t, 0):.2f}" for n in names) + " |")
    print("| event to screen p50 / p99 | " + " | ".join(
        f"{b[n]['event_to_screen_us']['p50'] / 1000:.1f} / {b[n]['event_to_screen_us']['p99'] / 1000:.1f} ms"
        for n in names) + " |")
    print("| a key typed during the load, to the input on screen (median / max of 10) | " + " | ".join(
        f"{b[n]['typing_ms'][len(b[n]['typing_ms']) // 2]:.0f} / {max(b[n]['typing_ms']):.0f} ms"
        for n in names) + " |")
    print("| users list shows only the host, after the 300 left | " + " | ".join(
        settled_text(b[n]["users_settled_ms"]) for n in names) + " |")
    if len(names) == 2:
        print(f"| CPU, this build / baseline | {b[names[0]]['cpu_cores'] / b[names[1]]['cpu_cores']:.2f}x | |")
    print()


def print_store(r):
    print("### A room with 1,000,000 stored messages (SQLite, FTS5)\n")
    print("| figure | value |")
    print("|---|---|")
    print(f"| store size | {r['store_bytes'] / 2**20:.0f} MiB ({r['bytes_per_message']:.0f} bytes per message) |")
    if "fill_messages_per_s" in r:
        print(f"| writing it (and indexing it for search) | {r['fill_messages_per_s']:,.0f} messages/s |")
    print(f"| start-up: open the store, load the room | {r['startup_ms']:.1f} ms ({r['startup_to_listening_ms']:.1f} ms to listening) |")
    print(f"| welcome with resume of 1,000 messages | {r['resume_1000_ms']:.1f} ms |")
    print(f"| a history page of 100 from the middle | {r['history_page_ms']:.1f} ms |")
    for name, q in r["search_ms"].items():
        print(f"| search: {name.replace('_', ' ')} (\"{q['text']}\", {q['results']} found) | {q['ms']:.1f} ms |")
    print()


def scaling_bench(args, tmp):
    """lanchat alone at growing room sizes: seating everyone at once (time, peak and settled
    RSS, a newcomer's welcome), then one sender's throughput to all; protocol-1 hellos too,
    while they still finish in the time allowed."""
    rows = []
    for n in (1000, 2500, 5000, 10000):
        for classic in (False, True):
            if classic and n > 5000:
                continue  # does not seat within the minute (see the large-room scenario)
            storm = ["--clients", str(n), "--senders", "1", "--messages", "1",
                     "--connect-parallel", "0", "--settle", "1", "--timeout", "60",
                     "--late-joiner"] + (["--classic"] if classic else [])
            s = run_one(args, "lanchat", storm, False, tmp)
            row = {"members": n, "classic": classic, "storm": s}
            if not classic:
                row["throughput"] = run_one(args, "lanchat", [
                    "--clients", str(n), "--senders", "1", "--messages", "300",
                    "--timeout", "120"], False, tmp)
            rows.append(row)
            print(f"  scaling: {n} members{' (protocol 1)' if classic else ''}: seated "
                  f"{s['join_ms']} ms, peak {s['server_hwm_kib']} KiB", file=sys.stderr)
    return rows


def print_scaling(rows):
    print("### One host as the room grows (lanchat alone; everyone joins at once)\n")
    print("| members | hellos | seated after | peak RSS | RSS seated | per member |"
          " newcomer's welcome | 1 sender: deliveries/s | server CPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        s = row["storm"]
        seated = f"{s['join_ms'] / 1000:.2f} s" if s["join_ms"] >= 0 else f"{s['joined']} seated in 60 s"
        rss = s["server_rss_joined_kib"]
        per = (f"{(rss - s['server_rss_base_kib']) / row['members']:.1f} KiB" if rss > 0 else "-")
        t = row.get("throughput")
        print(f"| {row['members']:,} | {'protocol 1' if row['classic'] else 'summaries'} | {seated} |"
              f" {s['server_hwm_kib'] / 1024:.0f} MB | {rss / 1024:.0f} MB | {per} |"
              f" {s.get('late_join_ms', -1)} ms |"
              f" {fmt_int(t['deliveries_per_s']) if t else '-'} | {t['server_cpu_pct'] if t else '-'}% |")
    print()


def print_window(w):
    e, s, h = w["empty"], w["screenful"], w["history_100k"]
    print("### The window (Xvfb, Mesa llvmpipe: the GPU is a CPU here)\n")
    print("| figure | value |")
    print("|---|---|")
    print(f"| idle window, CPU | {w['idle_cpu_pct']:.1f}% of a core |")
    for name, r in (("empty history", e), ("one screenful (~100 messages)", s),
                    (f"{h['history_lines']:,} lines of history", h)):
        print(f"| frame CPU (drawn whole), {name} | {r['frame_cpu_ms']['mean']:.2f} ms (main thread"
              f" {r['frame_thread_cpu_ms']['mean']:.2f} ms), {r['frame_wall_ms']['mean']:.2f} ms"
              " wall |")
    print(f"| 100k history vs one screenful | {h['frame_cpu_ms']['mean'] / s['frame_cpu_ms']['mean']:.2f}x |")
    print(f"| 100k history vs empty | {h['frame_cpu_ms']['mean'] / e['frame_cpu_ms']['mean']:.2f}x |")
    t = s["event_to_screen_us"]
    print(f"| event to screen, 20 msg/s ({t['count']} messages) | p50 {t['p50'] / 1000:.1f} ms,"
          f" p99 {t['p99'] / 1000:.1f} ms, max {t['max'] / 1000:.1f} ms |")
    print()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lanchat", required=True)
    p.add_argument("--loadgen", required=True)
    p.add_argument("--asio", required=True)
    p.add_argument("--ngircd", default=shutil.which("ngircd") or "/usr/sbin/ngircd")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--out", default="bench-results.jsonl")
    p.add_argument("--only", default="", help="comma-separated scenario numbers (1-based)")
    p.add_argument("--no-window", action="store_true")
    p.add_argument("--scaling", action="store_true",
                   help="also lanchat alone at 1,000 to 10,000 members (docs/SCALING.md)")
    p.add_argument("--store-bench", default="",
                   help="lanchat_store_bench: a room with 1,000,000 stored messages")
    p.add_argument("--no-store-bench", action="store_true")
    p.add_argument("--baseline", default="",
                   help="another lanchat binary (an earlier commit, say) measured in the same "
                        "interleaved runs, for a before/after ratio")
    p.add_argument("--variant", action="append", default=[],
                   help="NAME=SERVER FLAGS[::LOADGEN FLAGS]: this build run with other flags in "
                        "the same interleaved runs (e.g. 'no store=--no-store')")
    p.add_argument("--only-servers", default="",
                   help="comma-separated server kinds to run (lanchat,irc,asio,baseline,v1,...)")
    args = p.parse_args()
    if args.baseline:
        SERVERS.insert(1, "baseline")
    for i, spec in enumerate(args.variant, 1):
        name, _, flags = spec.partition("=")
        server_flags, _, loadgen_flags = flags.partition("::")
        kind = f"v{i}"
        VARIANTS[kind] = (name, server_flags.split(), loadgen_flags.split())
        NAMES[kind] = f"lanchat ({name})"
        SERVERS.insert(1, kind)
    if args.only_servers:
        keep = args.only_servers.split(",")
        SERVERS[:] = [s for s in SERVERS if s in keep]

    only = {int(x) for x in args.only.split(",") if x}
    tmp = tempfile.mkdtemp(prefix="lanchat-bench-")
    results = []  # (scenario index, server, quickack, run)
    out = open(args.out, "w")
    for si, (title, extra, kind) in enumerate(SCENARIOS, 1):
        if only and si not in only:
            continue
        modes = [False, True] if kind == "throughput" else [True] if kind == "paced" else [False]
        reps = args.reps if kind == "throughput" else 1
        for q in modes:
            runs = {s: [] for s in SERVERS}
            for rep in range(reps):
                # Each rep starts one server later, so no server always follows the same one
                # (a server right after ngIRCd closed 1,000 connections runs slower).
                for s in SERVERS[rep % len(SERVERS):] + SERVERS[:rep % len(SERVERS)]:
                    if (title, s) in SKIP:
                        continue
                    r = run_one(args, s, extra, q, tmp)
                    r["scenario"] = title
                    out.write(json.dumps(r) + "\n")
                    out.flush()
                    runs[s].append(r)
                    print(f"  [{si}] {title} | {NAMES[s]} | quickack={q}: "
                          f"{r.get('result')} {fmt_int(r.get('deliveries_per_s', 0))}/s "
                          f"join {r.get('join_ms')} ms, lost {r.get('lost')}", file=sys.stderr)
            for s in SERVERS:
                if runs[s]:
                    results.append((si, s, q, median_run(runs[s])))
    store = None
    if args.store_bench and not args.no_store_bench:
        print("  a room with 1,000,000 stored messages ...", file=sys.stderr)
        store_dir = os.path.join(os.path.dirname(os.path.abspath(args.out)), "store-bench")
        proc = subprocess.run([args.store_bench, "--messages", "1000000", "--dir", store_dir],
                              stdout=subprocess.PIPE, text=True, timeout=900, check=True)
        store = json.loads(proc.stdout.strip().splitlines()[-1])
        out.write(json.dumps({"store": store}) + "\n")
    scaling = None
    if args.scaling:
        scaling = scaling_bench(args, tmp)
        out.write(json.dumps({"scaling": scaling}) + "\n")
    window = busy = None
    if not args.no_window:
        print("  window under Xvfb ...", file=sys.stderr)
        window = window_bench(args, tmp)
        out.write(json.dumps({"window": window}) + "\n")
        print("  the host's window in a busy room ...", file=sys.stderr)
        busy = busy_room_bench(args, tmp)
        out.write(json.dumps({"busy_room": busy}) + "\n")
    out.close()
    print_tables(results)
    if store:
        print_store(store)
    if window:
        print_window(window)
    if busy:
        print_busy_room(busy)
    if scaling:
        print_scaling(scaling)


def efficiency(r):
    """Deliveries per second of the server's CPU time: all the CPU the run cost it, counted until
    it went quiet after the last delivery (a store still writing and indexing what it was sent
    is still the run's work). A run that did not complete has no such total: then the CPU
    share while the messages flowed."""
    if r.get("server_cpu_s", -1) > 0:
        return r["deliveries_received"] / r["server_cpu_s"]
    return r["deliveries_per_s"] / max(r["server_cpu_pct"], 1) * 100


def cpu_after(r):
    """Server CPU seconds spent after the last delivery, or None."""
    if r.get("server_cpu_s", -1) < 0:
        return None
    return max(0.0, r["server_cpu_s"] - r["server_cpu_pct"] / 100 * r["seconds"])


def print_efficiency(by):
    print("### Server efficiency (deliveries per server CPU-second, from the median runs above)\n")
    print("All the CPU each run cost the server, until it went quiet after the last delivery.\n")
    shown = [s for s in SERVERS if s in ("lanchat", "irc", "asio", "baseline")]
    print("| scenario | " + " | ".join(NAMES[s] for s in shown) + " | lanchat/ngIRCd | lanchat/asio |"
          + (" lanchat/baseline |" if "baseline" in shown else "")
          + " lanchat CPU after the last delivery |")
    print("|---" * (len(shown) + 4 + ("baseline" in shown)) + "|")
    for si, (title, _, kind) in enumerate(SCENARIOS, 1):
        if kind != "throughput" or si not in by:
            continue
        best = {s: max(efficiency(r) for r in by[si][s].values()) for s in shown if by[si].get(s)}
        ratio = lambda other: fmt_ratio(best.get("lanchat"), best.get(other))
        runs = by[si].get("lanchat", {}).values()
        after = [cpu_after(r) for r in runs]
        after = "-" if not runs or None in after else \
            f"{max(zip(map(efficiency, runs), after))[1]:.2f} s"
        print(f"| {title} | " + " | ".join(fmt_int(round(best[s])) if s in best else "-" for s in shown)
              + f" | {ratio('irc')} | {ratio('asio')} |"
              + (f" {ratio('baseline')} |" if "baseline" in shown else "") + f" {after} |")
    print()


def print_tables(results):
    by = {}
    for si, s, q, r in results:
        by.setdefault(si, {}).setdefault(s, {})[q] = r

    baseline_rows = []
    print("### Throughput (deliveries/s to other clients; median of runs; 0 lost required)\n")
    print("| scenario | lanchat | ngIRCd | asio example | lanchat/ngIRCd | lanchat/asio |"
          " lost (l/n/a) | CPU % server, loadgen (lanchat) |")
    print("|---|---|---|---|---|---|---|---|")
    for si, (title, _, kind) in enumerate(SCENARIOS, 1):
        if kind != "throughput" or si not in by:
            continue
        cells, best = [], {}
        for s in SERVERS:
            modes = by[si][s]
            b = max(modes.values(), key=lambda r: r.get("deliveries_per_s", 0))
            best[s] = b
            cells.append(" / ".join(
                f"{fmt_int(modes[q]['deliveries_per_s'])}{' qa' if q else ''}" for q in sorted(modes)))
        def dps(kind):
            return best[kind]["deliveries_per_s"] if kind in best else 0
        def ratio(kind):
            return fmt_ratio(dps("lanchat"), dps(kind))
        lost = "/".join(str(sum(r.get("lost", 0) for r in by[si][s].values())) for s in SERVERS)
        l = best["lanchat"]
        named = dict(zip(SERVERS, cells))
        print(f"| {title} | {named.get('lanchat', '-')} | {named.get('irc', '-')} | {named.get('asio', '-')} |"
              f" {ratio('irc')} | {ratio('asio')} | {lost} | {l['server_cpu_pct']},"
              f" {l['loadgen_cpu_pct']} |")
        for other in best:
            if other != "baseline" and other not in VARIANTS:
                continue
            ratio_b = fmt_ratio(dps("lanchat"), dps(other))
            lost_o = sum(r.get("lost", 0) for r in by[si][other].values())
            baseline_rows.append(f"| {title} | {NAMES[other]} | {named['lanchat']} | {named[other]} |"
                                 f" {ratio_b} | {lost_o} |")
    print("\n(`qa`: the load generator set TCP_QUICKACK; ratios use each server's better figure.)\n")
    print_efficiency(by)
    if baseline_rows:
        print("### This build against its baseline and variants (same runs)\n")
        print("| scenario | compared with | lanchat | the other | lanchat/other | lost (other) |")
        print("|---|---|---|---|---|---|")
        print("\n".join(baseline_rows) + "\n")

    print("### Latency, joins, memory\n")
    print("| scenario | figure | " + " | ".join(NAMES[s] for s in SERVERS) + " |")
    print("|---" * (len(SERVERS) + 2) + "|")
    for si, (title, _, kind) in enumerate(SCENARIOS, 1):
        if kind == "throughput" or si not in by:
            continue
        rs = [next(iter(by[si][s].values())) if s in by[si] else None for s in SERVERS]
        if kind == "paced":
            for key in ("p50", "p99", "max"):
                print(f"| {title} | latency {key} (us) | " +
                      " | ".join(str(r["latency_us"][key]) for r in rs) + " |")
            print(f"| {title} | lost | " + " | ".join(str(r["lost"]) for r in rs) + " |")
        elif kind == "large":
            def large(r):
                if r is None:
                    return "not run"
                if r["join_ms"] < 0:
                    return f"{r['joined']}/{r['clients']} seated ({r['result']})"
                late = f", newcomer's welcome {r['late_join_ms']} ms" if r.get("late_join_ms", -1) >= 0 else ""
                reached = "; the message reached all" if r["result"] == "complete" and r["lost"] == 0 else ""
                return (f"{r['join_ms'] / 1000:.1f} s, peak {r['server_hwm_kib'] / 1024:.0f} MB"
                        f"{late}{reached}")
            print(f"| {title} | seated, peak RSS, newcomer | " +
                  " | ".join(large(r) for r in rs) + " |")
            r = rs[0]
            if r is not None and r["join_ms"] >= 0:
                met = lambda ok: "met" if ok else "**not met**"
                t = LARGE_TARGETS
                verdict = (f"seated < {t['seated_s']:.0f} s: {met(r['join_ms'] / 1000 < t['seated_s'])};"
                           f" peak < {t['peak_mb']:.0f} MB: {met(r['server_hwm_kib'] / 1024 < t['peak_mb'])};"
                           f" welcome < 1 s: {met(0 <= r.get('late_join_ms', -1) < t['late_join_ms'])};"
                           f" message to all: {met(r['result'] == 'complete' and r['lost'] == 0)}")
                print(f"| {title} | targets (lanchat) | " +
                      " | ".join([verdict] + [""] * (len(SERVERS) - 1)) + " |")
        elif kind == "storm":
            cell = lambda r: (f"{r['join_ms']} ms" if r["join_ms"] >= 0
                              else f"{r['joined']}/{r['clients']} joined in 20 s")
            print(f"| {title} | all joined after | " + " | ".join(cell(r) for r in rs) + " |")
        else:
            def mem(r):
                if r["server_rss_joined_kib"] < 0:
                    return f"{r['joined']}/{r['clients']} joined ({r['result']})"
                per = (r["server_rss_joined_kib"] - r["server_rss_base_kib"]) * 1024 / r["clients"]
                return (f"{r['server_rss_joined_kib'] / 1024:.1f} MB ({per / 1024:.1f} KiB/client;"
                        f" peak {r['server_hwm_kib'] / 1024:.1f} MB)")
            print(f"| {title} | server RSS | " +
                  " | ".join(mem(r) if r else "not run" for r in rs) + " |")
            print(f"| {title} | all joined after | " +
                  " | ".join(f"{r['join_ms'] / 1000:.1f} s" if r and r["join_ms"] >= 0 else "-"
                             for r in rs) + " |")


if __name__ == "__main__":
    main()
