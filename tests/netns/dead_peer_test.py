#!/usr/bin/env python3
"""A peer that vanishes (its link goes down, as when a laptop leaves Wi-Fi range) is
dropped by the server's TCP keepalive with leave reason `timeout`, and the others are told.

Runs in two network namespaces that this test creates and removes, joined by a veth pair
on a /30 that exists only between them. Needs root; skipped (exit 77) otherwise.

usage: dead_peer_test.py LANCHAT_BINARY"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


def read_until(proc, needle, timeout):
    deadline = time.time() + timeout
    seen = []
    os.set_blocking(proc.stdout.fileno(), False)
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line:
            seen.append(line.rstrip("\n"))
            if needle in line:
                return line, seen
        else:
            time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {needle!r}; saw {seen}")


def main():
    binary = sys.argv[1]
    if os.geteuid() != 0:
        print("skipped: network namespaces need root")
        return SKIP
    tag = f"lc{os.getpid() % 100000}"
    ns_server, ns_client = f"{tag}s", f"{tag}c"
    if sh("ip", "netns", "add", ns_server, check=False).returncode != 0:
        print("skipped: cannot create network namespaces here")
        return SKIP
    data = tempfile.mkdtemp(prefix="lanchat-dead-peer-")
    # The host's identity and the watcher's known_hosts live in the test's own folder: the
    # user's would pin whichever host identity an earlier run left there.
    os.environ["XDG_CONFIG_HOME"] = os.path.join(data, "config")
    os.environ["XDG_DATA_HOME"] = os.path.join(data, "share")
    procs = []
    try:
        sh("ip", "netns", "add", ns_client)
        sh("ip", "link", "add", f"{tag}a", "netns", ns_server, "type", "veth", "peer", "name",
           f"{tag}b", "netns", ns_client)
        for ns, dev, addr in ((ns_server, f"{tag}a", "10.231.7.1/30"),
                              (ns_client, f"{tag}b", "10.231.7.2/30")):
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")

        host = subprocess.Popen(
            ["ip", "netns", "exec", ns_server, binary, "host", "--headless", "--bind", "10.231.7.1",
             "--port", "5555", "--dead-peer-timeout", "4", "--no-store"],
            stdout=subprocess.PIPE, text=True)
        procs.append(host)
        read_until(host, "listening on 10.231.7.1:5555", 10)

        watcher = subprocess.Popen(
            ["ip", "netns", "exec", ns_server, binary, "join", "10.231.7.1:5555", "--nick", "watcher",
             "--headless"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(watcher)
        read_until(watcher, "you joined", 10)

        # The ghost: a raw protocol client across the veth that joins, then goes silent.
        ghost = subprocess.Popen(
            ["ip", "netns", "exec", ns_client, sys.executable, "-c",
             "import socket,time\n"
             "s=socket.create_connection(('10.231.7.1',5555))\n"
             "s.sendall(b'{\"type\":\"hello\",\"nick\":\"ghost\",\"proto\":1}\\n')\n"
             "print(s.recv(65536).decode().split(chr(10))[0], flush=True)\n"
             "time.sleep(120)\n"],
            stdout=subprocess.PIPE, text=True)
        procs.append(ghost)
        read_until(ghost, '"welcome"', 10)
        read_until(watcher, "* ghost joined", 10)

        # The ghost's link goes down: it neither closes nor answers any more.
        vanished = time.time()
        sh("ip", "-n", ns_client, "link", "set", f"{tag}b", "down")
        line, _ = read_until(watcher, "* ghost left", 30)
        elapsed = time.time() - vanished
        assert "(timeout)" in line, f"expected reason timeout: {line!r}"
        print(f"vanished peer dropped after {elapsed:.1f} s (--dead-peer-timeout 4): {line.strip()}")
        read_until(host, "ghost left (timeout)", 5)
        print("dead peer test: passed")
        return 0
    finally:
        for p in procs:
            p.kill()
            p.wait()
        sh("ip", "netns", "del", ns_server, check=False)
        sh("ip", "netns", "del", ns_client, check=False)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
