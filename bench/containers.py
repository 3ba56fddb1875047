"""The bench's own containers: started with a prefix, removed one at a time (moby#46661)."""

from __future__ import annotations

import subprocess
import sys

from tests.lab import IMAGE, remove_one_at_a_time, sh

PREFIX = "cnetbench-"


def quiet(*args: str) -> None:
    """Run a command, output discarded; a container removed meanwhile is not the bench's concern."""
    subprocess.run(list(args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def remove_bench_containers() -> None:
    remove_one_at_a_time(
        sh("docker", "ps", "-aq", "--filter", f"name=^/{PREFIX}", check=False).split()
    )


def running_bench_containers() -> list[str]:
    return sh(
        "docker",
        "ps",
        "-q",
        "--filter",
        f"name=^/{PREFIX}",
        "--filter",
        "status=running",
        check=False,
    ).split()


def start_bench_containers(n: int, reuse: bool = False) -> None:
    """``n`` fresh containers; ``reuse``: keep the ones an earlier ``--keep`` left when
    exactly ``n`` are running (starting 200 takes a minute)."""
    if reuse and len(running_bench_containers()) == n:
        print(f"reusing the {n} running containers", file=sys.stderr)
        return
    remove_bench_containers()
    print(f"starting {n} containers ...", file=sys.stderr)
    for i in range(n):
        quiet("docker", "run", "-d", "--name", f"{PREFIX}{i:03d}", IMAGE, "sleep", "86400")
