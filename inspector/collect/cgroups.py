"""A container's pid from its cgroup, without asking the engine.

Docker's list call has no pid; an inspect per container costs ~2 ms through the SDK and
hangs for as long as the engine does (moby#46661).  The engine puts every container in a
cgroup named after its id, so ``cgroup.procs`` there names its processes, all of which
share its network namespace.  Only the layouts Docker itself makes are tried (cgroupfs
and systemd drivers, cgroup v1 and v2); a container in a custom ``--cgroup-parent`` is not
found here and the caller falls back to a bounded inspect.
"""

from __future__ import annotations

import os

CGROUP_ROOT = "/sys/fs/cgroup"
_V1_CONTROLLERS = ("pids", "memory", "cpu", "systemd", "devices", "freezer")


def _bases(root: str) -> tuple[str, ...]:
    """The hierarchies to look in: the unified one (v2), or one v1 controller."""
    if os.path.exists(os.path.join(root, "cgroup.controllers")):
        return (root,)
    return tuple(
        os.path.join(root, c) for c in _V1_CONTROLLERS if os.path.isdir(os.path.join(root, c))
    )[:1]


def _candidates(base: str, container_id: str) -> tuple[str, ...]:
    return (
        os.path.join(base, "docker", container_id, "cgroup.procs"),  # cgroupfs driver
        os.path.join(base, "system.slice", f"docker-{container_id}.scope", "cgroup.procs"),
    )


class CgroupPids:
    """Finds pids by container id; the hierarchy is looked up once."""

    def __init__(self, root: str = CGROUP_ROOT) -> None:
        self._bases = _bases(root)

    def pid(self, container_id: str) -> int | None:
        """The lowest pid in the container's cgroup (its init, as a rule); None if not found."""
        for base in self._bases:
            for path in _candidates(base, container_id):
                try:
                    with open(path, "rb") as fh:
                        pids = [int(line) for line in fh.read().split()]
                except (OSError, ValueError):
                    continue
                if pids:
                    return min(pids)
        return None


def pid_belongs_to(pid: int, container_id: str) -> bool:
    """Whether process ``pid`` of this host runs in the container's cgroup.

    Tells a pid the engine reported for one of this host's containers from one of another
    host's (an engine reached over ``tcp://`` or ``ssh://``).
    """
    try:
        with open(f"/proc/{pid}/cgroup", "rb") as fh:
            return container_id.encode() in fh.read()
    except OSError:
        return False
