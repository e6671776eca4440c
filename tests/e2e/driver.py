"""Drives a real lanchat window under Xvfb like a person: xdotool moves the mouse to the
widgets the app reports (--test-report), clicks, types, presses keys. Loopback only.

Pitfalls this handles (see shared notes): no window manager (use windowfocus, not
windowactivate); a key pressed and released within one ImGui frame is lost, so keys are
held for 150 ms; widget positions come from the app, never hard-coded."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time


class Failure(Exception):
    pass


def wait_until(pred, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.05)
    raise Failure(f"timed out waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Xvfb:
    def __init__(self):
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r) as f:
            num = f.readline().strip()
        if not num:
            raise Failure("Xvfb did not start")
        self.display = ":" + num
        # Only go on once the server answers requests.
        env = dict(os.environ, DISPLAY=self.display)
        wait_until(lambda: subprocess.run(["xdotool", "getdisplaygeometry"], env=env,
                                          capture_output=True).returncode == 0, 20, "Xvfb to answer")

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Notifications:
    """A private D-Bus session bus with a real notification service (dunst) on the test's
    display: what lanchat shows as desktop notifications can be read back."""

    def __init__(self, xvfb):
        self.bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.bus.stdout.readline().strip()
        if not self.address:
            raise Failure("dbus-daemon did not start")
        self.env = dict(os.environ, DISPLAY=xvfb.display, DBUS_SESSION_BUS_ADDRESS=self.address)
        self.dunst = subprocess.Popen(["dunst"], env=self.env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        wait_until(lambda: subprocess.run(["dunstctl", "count", "displayed"], env=self.env,
                                          capture_output=True).returncode == 0, 10, "dunst")

    def shown(self):
        """(summary, body) of every notification shown so far."""
        subprocess.run(["dunstctl", "close-all"], env=self.env, capture_output=True)
        time.sleep(0.2)
        r = subprocess.run(["dunstctl", "history"], env=self.env, capture_output=True, text=True)
        try:
            data = json.loads(r.stdout)["data"][0]
        except (ValueError, KeyError, IndexError):
            return []
        return [(n["summary"]["data"], n["body"]["data"]) for n in data]

    def close(self):
        for p in (self.dunst, self.bus):
            p.terminate()
            p.wait(timeout=10)


class Window:
    """A lanchat window process and its test report."""

    def __init__(self, binary, xvfb, artifacts, args=(), name="window", extra_env=None,
                 discovery=False, prefix=()):
        """discovery: let the Join tab look for rooms (only inside a test's own network
        namespaces: a query would otherwise reach the machine's real LAN). prefix: a
        command to run the window under (`ip netns exec NS`)."""
        self.xvfb = xvfb
        self.artifacts = artifacts
        self.tmp = tempfile.mkdtemp(prefix="lanchat-e2e-")
        self.report_path = os.path.join(self.tmp, "report.json")
        self.shot_path = os.path.join(self.tmp, "shot.png")
        env = dict(os.environ, DISPLAY=xvfb.display, XDG_CONFIG_HOME=os.path.join(self.tmp, "config"),
                   XDG_DATA_HOME=data_home())
        if extra_env:
            env.update(extra_env)
        if "ASAN_OPTIONS" in env:
            # Mesa's GL driver leaks a few hundred bytes from a module it unloads before
            # LeakSanitizer reports, so no suppression can name it. Address errors and
            # UBSan stay on; leaks of our own code are checked in every other process.
            env["ASAN_OPTIONS"] += ":detect_leaks=0"
        self.env = env
        self.log_path = os.path.join(artifacts, f"{name}.log")
        self.log = open(self.log_path, "w")
        cmd = [*prefix, binary, *args, "--test-report", self.report_path, "--screenshot",
               self.shot_path]
        if not discovery:
            cmd.append("--no-discovery")
        # A new Xvfb on a display number the previous test just released can refuse the very
        # first client for a moment. Relaunch only for exactly that message; any other early
        # exit fails the test.
        for attempt in range(3):
            self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
            self.wid = wait_until(lambda: self._find_window() or (self.proc.poll() is not None),
                                  20, "the lanchat window")
            if self.wid is not True:
                break
            with open(self.log_path) as f:
                if "cannot open a window on display" not in f.read() or attempt == 2:
                    raise Failure(f"the window exited with status {self.proc.returncode}")
            time.sleep(0.5)
        wait_until(lambda: self.report().get("facts", {}).get("frame_ok"), 20, "the first frame")

    def _find_window(self):
        r = subprocess.run(["xdotool", "search", "--name", "lanchat$"], env=self.env,
                           capture_output=True, text=True)
        ids = r.stdout.split()
        return ids[0] if ids else None

    def report(self):
        try:
            with open(self.report_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def facts(self):
        return self.report().get("facts", {})

    def widget(self, name, timeout=10):
        """The widget's rectangle once it has stopped moving (auto-sized windows settle
        over a few frames; a rectangle from the first frame can be stale)."""
        def stable():
            a = self.report().get("widgets", {}).get(name)
            if not a:
                return None
            time.sleep(0.15)
            b = self.report().get("widgets", {}).get(name)
            return b if a == b else None
        return wait_until(stable, timeout, f"widget {name}")

    def xdo(self, *args):
        subprocess.run(["xdotool", *args], env=self.env, check=True)

    def click(self, name):
        self.aim(name)
        self.xdo("mousedown", "1")
        time.sleep(0.12)
        self.xdo("mouseup", "1")
        time.sleep(0.2)

    def aim(self, name):
        x0, y0, x1, y1 = self.widget(name)
        cx, cy = int((x0 + x1) / 2), int((y0 + y1) / 2)

        def pointer_on_target():
            m = self.facts().get("mouse")
            return m is not None and x0 <= m[0] <= x1 and y0 <= m[1] <= y1

        # Press only once ImGui itself sees the pointer over the widget: a press that
        # arrives before the window has focus or the move is lost.
        for attempt in range(5):
            self.xdo("windowfocus", "--sync", self.wid)
            self.xdo("mousemove", "--window", self.wid, str(cx + attempt % 2), str(cy))
            try:
                wait_until(pointer_on_target, 2, f"pointer over {name}")
                if self.widget(name) == [x0, y0, x1, y1]:
                    break
                x0, y0, x1, y1 = self.widget(name)  # it moved: aim again
                cx, cy = int((x0 + x1) / 2), int((y0 + y1) / 2)
            except Failure:
                if attempt == 4:
                    raise
        time.sleep(0.05)

    def right_click(self, name):
        self.aim(name)
        self.xdo("mousedown", "3")
        time.sleep(0.12)
        self.xdo("mouseup", "3")
        time.sleep(0.2)

    def clipboard(self):
        """The X clipboard's text, as another program pasting it would get it."""
        r = subprocess.run(["xclip", "-o", "-selection", "clipboard"], env=self.env,
                           capture_output=True, text=True, timeout=10)
        return r.stdout

    def double_click(self, name):
        """Two presses within ImGui's double-click time (0.3 s), each seen by a frame."""
        self.aim(name)
        for _ in range(2):
            self.xdo("mousedown", "1")
            time.sleep(0.06)
            self.xdo("mouseup", "1")
            time.sleep(0.06)
        time.sleep(0.2)

    def wheel(self, name, notches, up=True):
        """Turns the mouse wheel over a widget (button 4 scrolls up, 5 down)."""
        x0, y0, x1, y1 = self.widget(name)
        self.xdo("mousemove", "--window", self.wid, str(int((x0 + x1) / 2)), str(int((y0 + y1) / 2)))
        self.xdo("click", "--repeat", str(notches), "--delay", "8", "4" if up else "5")

    def key(self, *keys):
        for k in keys:
            self.xdo("keydown", k)
        time.sleep(0.15)
        for k in reversed(keys):
            self.xdo("keyup", k)
        time.sleep(0.15)

    def type(self, text, delay_ms=40):
        self.xdo("type", "--delay", str(delay_ms), text)
        time.sleep(0.2)

    # xdotool types a non-ASCII character by remapping a spare keycode for a moment; a
    # window slowed down (a sanitizer build beside other tests) can read the key after the
    # mapping has moved on. Each retry types slower, as a person would after a typo.
    TYPING_DELAYS_MS = (40, 120, 250, 400)

    def replace_field(self, name, text):
        """Clears a field and types text into it, checking what the widget holds: under
        load xdotool can drop a character it types through a remapped keycode (non-ASCII),
        so a wrong value is cleared and typed again, as a person would fix a typo."""
        self.click(name)
        for attempt in range(4):
            self.key("ctrl+a")
            self.key("BackSpace")
            if text:
                self.type(text, self.TYPING_DELAYS_MS[attempt])
            try:
                self.wait_fact("value." + name, lambda v: v is None or v == text, 3)
                return
            except Failure:
                if attempt == 3:
                    raise

    def type_message(self, text):
        """Types into the chat input (already focused), verified like replace_field."""
        for attempt in range(4):
            self.type(text, self.TYPING_DELAYS_MS[attempt])
            try:
                self.wait_fact("input", lambda v: v == text, 3)
                return
            except Failure:
                if attempt == 3:
                    raise
                self.key("ctrl+a")
                self.key("BackSpace")

    def wait_fact(self, key, pred, timeout=10):
        return wait_until(lambda: pred(self.facts().get(key)), timeout, f"fact {key}")

    def screenshot(self, name):
        before = self.facts().get("screenshots", 0)
        self.proc.send_signal(signal.SIGUSR1)
        wait_until(lambda: self.facts().get("screenshots", 0) > before, 10, "a screenshot")
        # On llvmpipe the window redraws only what changed (app/kept_frame); each screenshot
        # is also compared with the same frame drawn whole, and must not differ in a pixel.
        wrong = self.facts().get("kept_frame_wrong_pixels", 0)
        if wrong:
            raise AssertionError(f"screenshot {name}: the kept frame differs from a whole redraw "
                                 f"in {wrong} pixels")
        dest = os.path.join(self.artifacts, name + ".png")
        shutil.copyfile(self.shot_path, dest)
        print(f"screenshot: {dest}")
        return dest

    def title(self):
        r = subprocess.run(["xdotool", "getwindowname", self.wid], env=self.env, capture_output=True,
                           text=True)
        return r.stdout.strip()

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait()
        else:
            code = self.proc.returncode
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return code


_data_home = None


def data_home():
    """One XDG data folder for every lanchat this test run starts (rooms' stores, the host
    identity), never the user's own."""
    global _data_home
    if _data_home is None:
        _data_home = tempfile.mkdtemp(prefix="lanchat-e2e-data-")
    return _data_home


class Headless:
    """`lanchat host|join ... --headless` with its output collected line by line."""

    def __init__(self, binary, args, artifacts, name):
        self.out_path = os.path.join(artifacts, f"{name}.out")
        self.err_path = os.path.join(artifacts, f"{name}.err")
        env = dict(os.environ, XDG_DATA_HOME=data_home(),
                   XDG_CONFIG_HOME=os.path.join(data_home(), "config"))
        self.proc = subprocess.Popen([binary, *args, "--headless"], stdin=subprocess.PIPE,
                                     stdout=open(self.out_path, "w"), stderr=open(self.err_path, "w"),
                                     text=True, env=env)

    def say(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def out(self):
        with open(self.out_path) as f:
            return f.read()

    def err(self):
        with open(self.err_path) as f:
            return f.read()

    def wait_out(self, needle, timeout=10):
        return wait_until(lambda: needle in self.out(), timeout, f"'{needle}' on stdout")

    def wait_exit(self, timeout=10):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def start_headless_host(binary, artifacts, name="host", port=0, extra=()):
    h = Headless(binary, ["host", "--bind", "127.0.0.1", "--port", str(port), "--name", "Lab 2", *extra],
                 artifacts, name)
    line = wait_until(lambda: h.out().split("\n")[0] if "\n" in h.out() else None, 10, "startup line")
    m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        raise Failure(f"unexpected first line: {line!r}")
    return h, int(m.group(1))
