"""Open netlink sockets inside another network namespace without forking.

``setns(2)`` changes only the calling thread's namespace, so a worker thread can step
into a container's namespace, create a socket there (a socket stays bound to the
namespace it was created in), and step back at once.  See ``shared/notes/netns-facts.md``.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

CLONE_NEWNET = 0x40000000

# dlopen(NULL): the interpreter is linked against libc, so setns is already there (and
# ctypes.util.find_library would run ldconfig in a subprocess on every start).
_libc = ctypes.CDLL(None, use_errno=True)
_host_fd: int | None = None


def host_netns_fd() -> int:
    """The fd of the namespace cnet started in, opened once and kept to come back to."""
    global _host_fd
    if _host_fd is None:
        _host_fd = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    return _host_fd


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextmanager
def inside(ns_fd: int) -> Iterator[None]:
    """Run the body with this thread in the namespace ``ns_fd``; always come back.

    If coming back fails, the process would carry on reading and acting in the
    wrong namespace, so it stops at once instead.
    """
    home = host_netns_fd()
    _setns(ns_fd)
    try:
        yield
    finally:
        try:
            _setns(home)
        except OSError as exc:  # pragma: no cover - kernel refused the way back
            sys.stderr.write(
                f"cnet: fatal: could not return to the host network namespace: {exc}\n"
            )
            sys.stderr.flush()
            os._exit(70)


def open_netns(pid: int) -> int:
    """Open the network namespace of a process (raises OSError when it is gone)."""
    return os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)


def netns_inode(fd: int) -> tuple[int, int]:
    """Identity of a namespace: two fds name the same namespace when these agree."""
    st = os.fstat(fd)
    return (st.st_dev, st.st_ino)
