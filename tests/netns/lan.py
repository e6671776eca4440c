"""A LAN for tests: network namespaces joined by veth pairs on a bridge (its own namespace),
one /24 (and IPv6 link-local addresses). Created by the test and removed after it."""
import subprocess


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


class Lan:
    def __init__(self, tag, hosts, subnet="10.232.9", ipv4=True):
        self.tag = tag
        self.namespaces = []
        self.bridge = f"{tag}br"
        sh("ip", "netns", "add", self.bridge)
        self.namespaces.append(self.bridge)
        sh("ip", "-n", self.bridge, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.bridge, "link", "set", "br0", "up")
        self.ns = {}
        self.addr = {}
        for i, h in enumerate(hosts, start=1):
            ns = f"{tag}{h}"
            sh("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            # Link-local IPv6 addresses usable at once (no duplicate detection wait).
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0",
               "net.ipv6.conf.all.accept_dad=0")
            sh("ip", "link", "add", f"{tag}{h}p", "netns", self.bridge, "type", "veth", "peer",
               "name", "eth0", "netns", ns)
            sh("ip", "-n", self.bridge, "link", "set", f"{tag}{h}p", "master", "br0")
            sh("ip", "-n", self.bridge, "link", "set", f"{tag}{h}p", "up")
            if ipv4:
                sh("ip", "-n", ns, "addr", "add", f"{subnet}.{i}/24", "dev", "eth0")
                self.addr[h] = f"{subnet}.{i}"
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            self.ns[h] = ns

    def run(self, host, *cmd):
        return ["ip", "netns", "exec", self.ns[host], *cmd]

    def close(self):
        for ns in reversed(self.namespaces):
            sh("ip", "netns", "del", ns, check=False)


def can_make_namespaces(tag):
    if sh("ip", "netns", "add", f"{tag}probe", check=False).returncode != 0:
        return False
    sh("ip", "netns", "del", f"{tag}probe", check=False)
    return True
