#!/usr/bin/env python3
"""Discovery on a real (simulated) LAN: hosts in network namespaces on one bridge, and
`lanchat list` and joiners in others. Proves that a room appears within a second with the
right fields, that two hosts on one machine and one on another are three rooms, that a
joiner can use what the list says, that garbage and floods change nothing and are not
amplified, that a stopped host disappears at once and a killed one after three missed
announcements, and that an IPv6-only LAN works too. Needs root (skipped otherwise, exit 77).

usage: discovery_test.py LANCHAT_BINARY"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lan import Lan, can_make_namespaces  # noqa: E402

SKIP = 77


class Proc:
    """A process whose stdout lines are collected (with arrival times) by a thread."""

    def __init__(self, cmd, stdin=False):
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.PIPE if stdin else None, text=True)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            with self.lock:
                self.lines.append((time.time(), line.rstrip("\n")))

    def wait_line(self, pred, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for t, line in self.lines:
                    if pred(line):
                        return t, line
            time.sleep(0.02)
        with self.lock:
            seen = [l for _, l in self.lines]
        raise AssertionError(f"timed out waiting for {what}; saw {seen[-15:]}")

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def list_rooms(lan, ns, binary, timeout=1.0):
    r = subprocess.run(lan.run(ns, binary, "list", "--json", "--timeout", str(timeout)),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"list exited {r.returncode}: {r.stderr}"
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def watch_events(watcher):
    with watcher.lock:
        return [(t, json.loads(l)) for t, l in watcher.lines if l.startswith("{")]


def main():
    binary = sys.argv[1]
    if os.geteuid() != 0:
        print("skipped: network namespaces need root")
        return SKIP
    tag = f"ld{os.getpid() % 10000}"
    if not can_make_namespaces(tag):
        print("skipped: cannot create network namespaces here")
        return SKIP
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()[1]
    data = tempfile.mkdtemp(prefix="lanchat-discovery-")
    # Every lanchat here keeps its identity and known_hosts in the test's own folder.
    os.environ["XDG_CONFIG_HOME"] = os.path.join(data, "config")
    os.environ["XDG_DATA_HOME"] = os.path.join(data, "share")
    procs = []
    lan = Lan(tag, ["a", "b", "c"])
    try:
        # A watcher on b sees every change as it happens.
        watcher = Proc(lan.run("b", binary, "list", "--json", "--watch", "--timeout", "0.2"))
        procs.append(watcher)
        time.sleep(0.5)

        host = Proc(lan.run("a", binary, "host", "--headless", "--name", "Lab 2", "--no-store",
                            "--data-dir", os.path.join(data, "a")))
        procs.append(host)
        t_listen, _ = host.wait_line(lambda l: l.startswith("listening on"), 10, "the host")
        _, fp_line = host.wait_line(lambda l: "fingerprint SHA-256" in l, 5, "the fingerprint")
        fingerprint = fp_line.split("SHA-256")[1].replace(" ", "").strip()
        t_found, line = watcher.wait_line(lambda l: '"Lab 2"' in l and '"found"' in l, 5,
                                          "Lab 2 in the watcher")
        appeared = t_found - t_listen
        print(f"room appeared {appeared * 1000:.0f} ms after the host listened")
        assert appeared < 1.0, f"took {appeared:.2f} s"
        room = json.loads(line)
        expect = {"room": "Lab 2", "address": lan.addr["a"], "port": 5555, "users": 0,
                  "password": False, "tls": "on", "tls_fingerprint": fingerprint,
                  "version": version, "proto": 1}
        for k, v in expect.items():
            assert room[k] == v, f"{k}: {room[k]!r} != {v!r} in {room}"

        # A one-shot list started now asks, and hosts answer at once.
        t0 = time.time()
        rooms = list_rooms(lan, "b", binary, 0.5)
        assert [r["room"] for r in rooms] == ["Lab 2"], rooms
        print(f"one-shot list (0.5 s) found it; took {time.time() - t0:.2f} s in all")

        # Join with what the list says; the next answer counts the member.
        joiner = Proc(lan.run("b", binary, "join", f"{room['address']}:{room['port']}",
                              "--nick", "ana", "--headless"), stdin=True)
        procs.append(joiner)
        joiner.wait_line(lambda l: "you joined" in l, 10, "ana to join")
        rooms = list_rooms(lan, "b", binary, 0.5)
        assert rooms[0]["users"] == 1, rooms

        # Two more hosts: one on the same machine (another port, a password), one elsewhere.
        quiz = Proc(lan.run("a", binary, "host", "--headless", "--name", "Quiz", "--port", "5556",
                            "--password", "s3cret", "--no-store", "--data-dir",
                            os.path.join(data, "a")))
        lab3 = Proc(lan.run("c", binary, "host", "--headless", "--name", "Lab 3", "--tls", "off",
                            "--no-store", "--data-dir", os.path.join(data, "c")))
        procs += [quiz, lab3]
        for p in (quiz, lab3):
            p.wait_line(lambda l: l.startswith("listening on"), 10, "a host")
        rooms = {r["room"]: r for r in list_rooms(lan, "b", binary, 1.0)}
        assert sorted(rooms) == ["Lab 2", "Lab 3", "Quiz"], rooms
        assert len({r["instance"] for r in rooms.values()}) == 3
        assert (rooms["Quiz"]["address"], rooms["Quiz"]["port"]) == (lan.addr["a"], 5556)
        assert rooms["Quiz"]["password"] is True and rooms["Quiz"]["tls"] == "required"
        assert (rooms["Lab 3"]["address"], rooms["Lab 3"]["port"]) == (lan.addr["c"], 5555)
        assert rooms["Lab 3"]["tls"] == "off" and rooms["Lab 3"]["tls_fingerprint"] is None
        print("three hosts, two on one machine: three rooms, right addresses and fields")

        # One host on two networks (a second subnet on the same wire, as a machine with a
        # wired and a Wi-Fi address on one LAN): still one room, at an address b can reach.
        for h, ip in (("a", "10.232.10.1/24"), ("b", "10.232.10.2/24")):
            subprocess.run(["ip", "-n", lan.ns[h], "addr", "add", ip, "dev", "eth0"], check=True)
        time.sleep(3.5)  # an announcement goes out on both
        rooms = list_rooms(lan, "b", binary, 1.0)
        assert sorted(r["room"] for r in rooms) == ["Lab 2", "Lab 3", "Quiz"], rooms
        lab2 = [r for r in rooms if r["room"] == "Lab 2"][0]
        assert lab2["address"] in (lan.addr["a"], "10.232.10.1"), lab2
        print(f"a host on two subnets: one room, listed at {lab2['address']}")

        # Garbage, oversized, spoofed and flooding datagrams from b.
        lab2_instance = lab2["instance"]
        flood = subprocess.run(lan.run("b", sys.executable, "-c", f"""
import socket, time, json
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
bad = [b"not json", b"{{" * 3000, b"[" * 500, b'{{"lanchat":"announce","v":1}}',
       b'{{"lanchat":"announce","v":1,"instance":"zz","room":"x","port":1,"users":0,"password":false}}',
       b'{{"lanchat":"goodbye","v":1,"instance":"{lab2_instance}"}}',
       b'{{"lanchat":"announce","v":1,"instance":"{lab2_instance}","room":"Evil","port":70000,"users":0,"password":false}}',
       bytes(range(256)) * 4, b"\\xff\\xfe" * 100]
for dst in ("{lan.addr['a']}", "10.232.9.255"):
    for d in bad:
        for _ in range(20):
            s.sendto(d, (dst, 5555))
# Queries from one asker, as fast as possible: the answers must stay few.
s.settimeout(0.2)
q = json.dumps({{"lanchat": "query", "v": 1}}).encode()
t0 = time.time()
for _ in range(2000):
    s.sendto(q, ("10.232.9.255", 5555))
answers = 0
deadline = time.time() + 1.5
while time.time() < deadline:
    try:
        s.recvfrom(2000)
        answers += 1
    except socket.timeout:
        pass
print(answers, round(time.time() - t0, 2))
"""), capture_output=True, text=True, timeout=60)
        answers, seconds = flood.stdout.split()
        answers = int(answers)
        print(f"2,000 queries from one address: {answers} answers from 3 hosts in {seconds} s")
        # Per asker: a burst of 4 then 2 a second, per host.
        assert answers <= 3 * (4 + 2 * (float(seconds) + 0.5)), answers
        rooms = {r["room"]: r for r in list_rooms(lan, "b", binary, 1.0)}
        assert sorted(rooms) == ["Lab 2", "Lab 3", "Quiz"], rooms
        assert rooms["Lab 2"]["port"] == 5555 and rooms["Lab 2"]["instance"] == lab2_instance
        assert not any(e.get("event") == "gone" for _, e in watch_events(watcher)), \
            "a spoofed goodbye took a room off the list"
        joiner.p.stdin.write("still here\n")
        joiner.p.stdin.flush()
        joiner.wait_line(lambda l: "still here" in l, 5, "chat after the garbage")
        print("garbage and floods changed nothing; chat goes on")

        # A clean stop says goodbye: gone at once.
        t_stop = time.time()
        lab3.stop()
        t_gone, _ = watcher.wait_line(lambda l: '"Lab 3"' in l and '"gone"' in l, 5, "Lab 3 gone")
        print(f"stopped host gone from the list after {(t_gone - t_stop) * 1000:.0f} ms")
        assert t_gone - t_stop < 1.5

        # A killed one says nothing: gone after three missed announcements (3 s apart).
        t_kill = time.time()
        quiz.stop(signal.SIGKILL)
        t_gone, _ = watcher.wait_line(lambda l: '"Quiz"' in l and '"gone"' in l, 15, "Quiz gone")
        print(f"killed host gone from the list after {t_gone - t_kill:.1f} s")
        assert 5.0 < t_gone - t_kill < 12.0
        for p in procs:
            p.stop()
        procs.clear()
    finally:
        for p in procs:
            p.stop(signal.SIGKILL)
        lan.close()

    # IPv6 only: no IPv4 address anywhere; the room is found on the link-local group and
    # joined at its link-local address.
    lan6 = Lan(tag + "6", ["a", "b"], ipv4=False)
    procs = []
    try:
        host = Proc(lan6.run("a", binary, "host", "--headless", "--bind", "::", "--name", "Six",
                             "--no-store", "--data-dir", os.path.join(data, "six")))
        procs.append(host)
        host.wait_line(lambda l: l.startswith("listening on"), 10, "the IPv6 host")
        rooms = list_rooms(lan6, "b", binary, 1.0)
        assert [r["room"] for r in rooms] == ["Six"], rooms
        addr = rooms[0]["address"]
        assert addr.startswith("fe80::") and addr.endswith("%eth0"), addr
        joiner = Proc(lan6.run("b", binary, "join", f"[{addr}]:{rooms[0]['port']}", "--nick",
                               "bo", "--headless"), stdin=True)
        procs.append(joiner)
        joiner.wait_line(lambda l: "you joined" in l, 10, "bo to join over IPv6")
        print(f"IPv6-only LAN: found at {addr} and joined")
    finally:
        for p in procs:
            p.stop(signal.SIGKILL)
        lan6.close()
    print("discovery test: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
