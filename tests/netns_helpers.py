"""Helpers for tests that make ``ip netns`` namespaces of their own (no Docker)."""

from __future__ import annotations

import os
import subprocess
import time


def sleeper_in(ns: str) -> subprocess.Popen[bytes]:
    """A process whose namespace is ``ns`` (``ip netns exec`` enters it, then execs)."""
    proc = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "600"])
    want = os.stat(f"/run/netns/{ns}").st_ino
    for _ in range(500):  # until exec'd inside: a bounded wait, no assertion on time
        if os.stat(f"/proc/{proc.pid}/ns/net").st_ino == want:
            return proc
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError(f"sleep never entered {ns}")
