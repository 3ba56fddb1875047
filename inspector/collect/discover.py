"""Every network namespace on this host, whatever made it, found the way lsns and lxkns do.

Two sources: the namespace of every process and every thread (``/proc/PID/task/TID/ns/net``:
a thread can ``setns`` on its own, as cnet's own workers do), and every nsfs bind mount in
the mount table (``ip netns add`` under ``/run/netns``, Docker's ``/var/run/docker/netns``,
Podman's ``/run/netns/netns-<uuid>``, a CNI runtime's ``cni-<uuid>``), which keep a namespace
alive with no process in it.  Each namespace is named once, by its (st_dev, st_ino).

For each one the lowest pid in it is kept, with that process's short name (``comm``) and
its cgroup path, which tell what made it (``collect.attribute``).  Never its command line
or environment: they carry secrets.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from inspector.model.records import FoundNamespace

PROC = "/proc"
MOUNTINFO = "/proc/self/mountinfo"
BIND_DIRS = ("/run/netns", "/var/run/netns", "/var/run/docker/netns", "/run/docker/netns")
"""Where bind-mounted namespaces are kept by convention; looked at besides the mount table,
since a namespace mounted in another mount namespace is not in this one's table."""


def _unescape(path: str) -> str:
    """Mount points in mountinfo escape space, tab, newline and backslash as octal."""
    if "\\" not in path:
        return path
    out, i = [], 0
    while i < len(path):
        if path[i] == "\\" and path[i + 1 : i + 4].isdigit():
            out.append(chr(int(path[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


def nsfs_mounts(mountinfo: str) -> list[str]:
    """Mount points of network namespaces in a mountinfo text (fstype nsfs, root net:[N])."""
    points = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        fstype = line.split(" - ", 1)[1].split()[0]
        if fstype == "nsfs" and fields[3].startswith("net:["):
            points.append(_unescape(fields[4]))
    return points


def _inode(link: str) -> int | None:
    """``net:[4026531833]`` -> 4026531833."""
    if link.startswith("net:[") and link.endswith("]"):
        return int(link[5:-1])
    return None


def process_namespaces(proc: str = PROC) -> dict[tuple[int, int], list[int]]:
    """Namespace -> the pids (thread group ids) with a thread in it, each namespace once.

    Each thread's ``ns/net`` link is read (``readlink``, relative to the process's task
    directory: half the cost of a ``stat``); every network namespace lives on the one nsfs
    device, so the inode in the link and that device name it.
    """
    found: dict[tuple[int, int], list[int]] = {}
    dev = _nsfs_dev()
    try:
        pids = [int(e.name) for e in os.scandir(proc) if e.name.isdigit()]
    except OSError:
        return found
    for pid in pids:
        try:
            tasks = os.open(f"{proc}/{pid}/task", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:  # gone, or not ours to read
            continue
        try:
            seen: set[int] = set()
            for tid in os.listdir(tasks):
                try:
                    ino = _inode(os.readlink(f"{tid}/ns/net", dir_fd=tasks))
                except OSError:
                    continue
                if ino is not None and ino not in seen:
                    seen.add(ino)
                    found.setdefault((dev, ino), []).append(pid)
        except OSError:
            continue
        finally:
            os.close(tasks)
    return found


def bind_mounts(
    mountinfo: str | None = None, dirs: Iterable[str] = BIND_DIRS
) -> dict[tuple[int, int], list[str]]:
    """Namespace -> the paths it is bind-mounted on (a stale file left there is not one)."""
    if mountinfo is None:
        try:
            with open(MOUNTINFO, encoding="utf-8", errors="replace") as fh:
                mountinfo = fh.read()
        except OSError:
            mountinfo = ""
    paths = nsfs_mounts(mountinfo)
    for d in dirs:
        try:
            paths.extend(os.path.join(d, e.name) for e in os.scandir(d))
        except OSError:
            continue
    nsfs_dev = _nsfs_dev()
    found: dict[tuple[int, int], list[str]] = {}
    real: set[str] = set()
    directories: dict[str, str] = {}
    for path in paths:
        # /var/run is /run: one path, said once.  Only the directory is resolved (once
        # each): realpath on 400 paths at 200 containers was 3000 lstat calls a scan.
        head, name = os.path.split(path)
        if head not in directories:
            directories[head] = os.path.realpath(head)
        key = os.path.join(directories[head], name)
        if key in real:
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue
        if st.st_dev != nsfs_dev:  # an empty file of ip netns whose mount is gone
            continue
        real.add(key)
        found.setdefault((st.st_dev, st.st_ino), []).append(key)
    return found


def _nsfs_dev() -> int:
    return os.stat("/proc/self/ns/net").st_dev


def _read(path: str, limit: int = 4096) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""


def cgroup_path(text: str) -> str:
    """The path to judge a process by: v2's ``0::`` line, else v1's systemd or pids one."""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            paths[parts[1]] = parts[2]
    for controller in ("", "name=systemd", "pids", "memory", "cpu,cpuacct", "cpu"):
        path = paths.get(controller)
        if path and path != "/":
            return path
    return next((p for p in paths.values() if p and p != "/"), "/")


def discover(
    proc: str = PROC,
    mountinfo: str | None = None,
    dirs: Iterable[str] = BIND_DIRS,
    known: Mapping[tuple[int, int], FoundNamespace] | None = None,
) -> tuple[FoundNamespace, ...]:
    """Every network namespace, with the lowest pid in it (its cgroup and comm) and the
    paths it is mounted on.  A namespace in ``known`` whose lowest pid is the same keeps
    the comm and cgroup read before: a re-discovery reads only what is new."""
    known = known or {}
    by_process = process_namespaces(proc)
    by_mount = bind_mounts(mountinfo, dirs)
    out = []
    for identity in sorted(by_process.keys() | by_mount.keys()):
        pids = sorted(by_process.get(identity, ()))
        pid = pids[0] if pids else None
        before = known.get(identity)
        if before is not None and before.pid == pid:
            comm, cgroup = before.comm, before.cgroup
        elif pid is not None:
            comm = _read(f"{proc}/{pid}/comm", 64).strip()
            cgroup = cgroup_path(_read(f"{proc}/{pid}/cgroup"))
        else:
            comm = cgroup = None
        out.append(
            FoundNamespace(
                identity=identity,
                pid=pid,
                processes=len(pids),
                comm=comm,
                cgroup=cgroup,
                paths=tuple(sorted(by_mount.get(identity, ()))),
            )
        )
    return tuple(out)
