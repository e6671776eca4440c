#!/usr/bin/env python3
"""`cmake --install` into a staging prefix puts down what a desktop needs to list lanchat in
its application menu: the executable, a valid desktop entry naming it and its icon, and the
icon in the hicolor sizes (plus the scalable original). Then the installed binary runs."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

SIZES = (16, 24, 32, 48, 64, 128, 256)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(26)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    color_type = head[25]
    return width, height, color_type


def desktop_entry(path):
    keys = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                keys[k] = v
    return keys


def main():
    build_dir = sys.argv[1]
    prefix = tempfile.mkdtemp(prefix="lanchat-install-")
    try:
        r = subprocess.run(["cmake", "--install", build_dir, "--prefix", prefix],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"cmake --install failed:\n{r.stdout}\n{r.stderr}"

        binary = os.path.join(prefix, "bin", "lanchat")
        assert os.access(binary, os.X_OK), "bin/lanchat is not installed as an executable"

        entry_path = os.path.join(prefix, "share", "applications", "lanchat.desktop")
        assert os.path.isfile(entry_path), "no share/applications/lanchat.desktop"
        if shutil.which("desktop-file-validate"):
            v = subprocess.run(["desktop-file-validate", entry_path], capture_output=True, text=True)
            assert v.returncode == 0 and not v.stdout.strip(), f"desktop entry: {v.stdout}{v.stderr}"
        entry = desktop_entry(entry_path)
        assert entry.get("Type") == "Application", entry
        assert entry.get("Exec", "").split()[0] == "lanchat", f"Exec is {entry.get('Exec')}"
        assert entry.get("Icon") == "lanchat", f"Icon is {entry.get('Icon')}"
        assert entry.get("Terminal") == "false", entry
        assert "Network" in entry.get("Categories", "").split(";"), entry

        icons = os.path.join(prefix, "share", "icons", "hicolor")
        for size in SIZES:
            png = os.path.join(icons, f"{size}x{size}", "apps", "lanchat.png")
            assert os.path.isfile(png), f"no {size}x{size} icon"
            w, h, color_type = png_size(png)
            assert (w, h) == (size, size), f"{png} is {w}x{h}"
            assert color_type == 6, f"{png} has no alpha channel (colour type {color_type})"
        svg = os.path.join(icons, "scalable", "apps", "lanchat.svg")
        assert os.path.isfile(svg), "no scalable icon"

        # What the menu launches must run from where it was put.
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        assert out.returncode == 0 and out.stdout.startswith("lanchat "), out
        print(f"installed into {prefix}: {out.stdout.strip()}")
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


if __name__ == "__main__":
    main()
