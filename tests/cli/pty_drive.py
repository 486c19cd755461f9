#!/usr/bin/python3
"""Drives a program on a pseudo-terminal, as a person at a terminal would.

Usage: pty_drive.py SPEC_JSON
SPEC_JSON: {"argv": [...], "cwd": "...", "script": [["expected text", "reply"], ...],
            "timeout": seconds}
Waits for each expected text in the program's output (the terminal's), then
types the reply (a newline is added). Prints the whole transcript, then a
last line "EXIT <status>" (128 + signal when a signal ended it). Exits 3 when
an expected text never came.
"""
import json
import os
import pty
import select
import sys
import time


def main():
    spec = json.loads(sys.argv[1])
    pid, fd = pty.fork()
    if pid == 0:
        if spec.get("cwd"):
            os.chdir(spec["cwd"])
        os.execv(spec["argv"][0], spec["argv"])
    deadline = time.monotonic() + spec.get("timeout", 30)
    transcript = b""
    seen = 0

    def read_some(wait):
        nonlocal transcript
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        transcript += data
        return True

    for expected, reply in spec.get("script", []):
        needle = expected.encode()
        while needle not in transcript[seen:]:
            if time.monotonic() > deadline or not read_some(0.1):
                sys.stdout.write(transcript.decode(errors="replace"))
                sys.stdout.write("\nNEVER SAW: %s\n" % expected)
                sys.exit(3)
        seen = transcript.index(needle, seen) + len(needle)
        os.write(fd, reply.encode() + b"\n")
    while time.monotonic() < deadline and read_some(0.1):
        pass
    _, status = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    sys.stdout.write(transcript.decode(errors="replace"))
    sys.stdout.write("\nEXIT %d\n" % code)


main()
