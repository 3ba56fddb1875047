"""Run the real ``cnet`` command in a subprocess, as an operator would."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def cnet(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, **kw: object
) -> subprocess.CompletedProcess[str]:
    """``python -m inspector ARGS`` with this checkout's interpreter; never through a shell."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=kw.pop("cwd", ROOT),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int) -> str:
    """The failure is one line on stderr, the right exit code, and no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _interpreter_for_nobody() -> str | None:
    """A Python an unprivileged user can execute (every directory on its path searchable)."""

    def reachable(path: str) -> bool:
        parts = os.path.realpath(path).split("/")
        dirs = ["/".join(parts[:n]) or "/" for n in range(1, len(parts))]
        return all(os.stat(d).st_mode & 0o001 for d in dirs) and bool(os.stat(path).st_mode & 0o001)

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, f"/usr/bin/python{version}"):
        if os.path.exists(candidate) and reachable(candidate):
            return candidate
    return None


def cnet_unprivileged(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``cnet ARGS`` as uid 65534 in the docker group: Docker answers, namespaces stay closed."""
    python = _interpreter_for_nobody()
    if python is None:
        pytest.skip("no Python interpreter here that an unprivileged user may execute")
    docker_gid = int(
        subprocess.run(
            ["getent", "group", "docker"], capture_output=True, text=True, check=True
        ).stdout.split(":")[2]
    )

    def drop_privileges() -> None:
        os.setgroups([docker_gid])
        os.setgid(docker_gid)
        os.setuid(65534)

    return subprocess.run(
        [python, "-m", "inspector", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd="/",
        env={
            "PATH": os.environ["PATH"],
            "HOME": "/tmp",
            "PYTHONPATH": os.pathsep.join([str(ROOT), *site.getsitepackages()]),
        },
        preexec_fn=drop_privileges,
    )
