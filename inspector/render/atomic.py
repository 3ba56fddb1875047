"""Write an output file safely, whatever the path names.

A regular file (or a new path) is replaced atomically: a temporary file beside it, fsync,
rename, so a reader (or a crash) never sees half a report and a failed write leaves
nothing behind; the file keeps its mode (and, for root, its owner).  Anything else is
not a file to replace: a character device (``/dev/null``, a terminal), a FIFO or a
socket is written into, as a shell redirect would; ``/dev/stdout`` and the like are
written to the descriptor they name; a symlink is followed, so its target is replaced
and the link stays.  A block device or a directory is refused.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import stat
import tempfile
from pathlib import Path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path``; raises OSError, with nothing left behind in place of a
    regular file.  Returns ``path``."""
    data = text.encode("utf-8")
    fd = _own_descriptor(str(path))
    if fd is not None:
        _write_fd(fd, data)
        return Path(path)
    target = Path(os.path.realpath(path))  # through every symlink, even a dangling one
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        _replace(target, data, None)
        return Path(path)
    mode = st.st_mode
    if stat.S_ISREG(mode):
        _replace(target, data, st)
    elif stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        _write_into(target, data)
    elif stat.S_ISSOCK(mode):
        _send_to(target, data)
    elif stat.S_ISLNK(mode):  # realpath gave up: a loop of symlinks
        raise OSError(40, "too many levels of symbolic links", str(path))
    elif stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "is a directory", str(path))
    else:
        raise OSError(1, "is a block device or another special file: not written", str(path))
    return Path(path)


def _replace(target: Path, data: bytes, old: os.stat_result | None) -> None:
    """The atomic rename, keeping the old file's mode and owner (a new file: the umask's)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if old is None:
                os.fchmod(fh.fileno(), 0o666 & ~_umask())
            else:
                os.fchmod(fh.fileno(), stat.S_IMODE(old.st_mode))
                if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                    with contextlib.suppress(PermissionError):  # only root may give a file away
                        os.fchown(fh.fileno(), old.st_uid, old.st_gid)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_OWN_FD = re.compile(r"/dev/(stdout|stderr)|/dev/fd/(\d+)|/proc/self/fd/(\d+)")


def _own_descriptor(path: str) -> int | None:
    """The descriptor a path like ``/dev/stdout`` names: written to as it is (its mode and
    offset, ``>>`` included), never reopened or renamed over."""
    m = _OWN_FD.fullmatch(path)
    if m is None:
        return None
    if m.group(1):
        return 1 if m.group(1) == "stdout" else 2
    return int(m.group(2) or m.group(3))


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_into(target: Path, data: bytes) -> None:
    """A device or FIFO: open it for writing (a FIFO waits for its reader) and write."""
    fd = os.open(target, os.O_WRONLY | os.O_NOCTTY)
    try:
        _write_fd(fd, data)
    finally:
        os.close(fd)


def _send_to(target: Path, data: bytes) -> None:
    """A Unix stream socket: connect and send, as ``socat - UNIX-CONNECT:path`` would."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(target))
        sock.sendall(data)


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` sets it, racing threads)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022
