"""Write an output file safely, whatever the path names.

A regular file (or a new path) is replaced atomically: a temporary file beside it, fsync,
rename, so a reader (or a crash) never sees half a report and a failed write leaves
nothing behind; the file keeps its mode (and, for root, its owner).  A file that must
be readable while it grows (a capture Wireshark follows) is opened in place instead
(``open_growing``), with the same rules for what a path may name.  Anything else is
not a file to replace: a character device (``/dev/null``, a terminal), a FIFO or a
socket is written into, as a shell redirect would; ``/dev/stdout`` and the like are
written to the descriptor they name; a symlink is followed, so its target is replaced
and the link stays.  A block device or a directory is refused.

Symlinks are followed as the kernel's ``fs.protected_symlinks`` would, whatever that
setting is here: a link in a sticky world-writable directory (``/tmp``) is followed only
when it belongs to the writer or to the directory's owner.  cnet often runs as root, and a
``/tmp/report.md -> /etc/shadow`` left by another user must not be written through.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path``; raises OSError, with nothing left behind in place of a
    regular file.  Returns ``path``."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """``write_text_atomic`` for bytes (a pcapng file, say)."""
    fd = _own_descriptor(str(path))
    if fd is not None:
        _write_fd(fd, data)
        return Path(path)
    target = resolve(str(path))  # through every symlink, even a dangling one
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
    elif stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "is a directory", str(path))
    else:
        raise OSError(1, "is a block device or another special file: not written", str(path))
    return Path(path)


class ProtectedSymlinkError(PermissionError):
    """A symlink the kernel's protected_symlinks rule refuses to follow."""


MAX_LINKS = 40
"""Symlinks followed in one path before giving up, as the kernel's ELOOP."""


def resolve(path: str) -> Path:
    """``os.path.realpath`` done one component at a time, so every symlink on the way is
    checked against the protected_symlinks rule before it is followed.  A part that does
    not exist ends the walk (the rest is taken as written).  Raises ProtectedSymlinkError,
    or OSError(ELOOP) for a loop."""
    pending = [p for p in reversed(path.split("/")) if p not in ("", ".")]
    current = Path("/") if path.startswith("/") else Path.cwd()
    followed = 0
    while pending:
        name = pending.pop()
        if name == "..":
            current = current.parent
            continue
        candidate = current / name
        try:
            st = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            return candidate.joinpath(*reversed(pending))
        if not stat.S_ISLNK(st.st_mode):
            current = candidate
            continue
        followed += 1
        if followed > MAX_LINKS:
            raise OSError(errno.ELOOP, "too many levels of symbolic links", path)
        _check_protected(candidate, st)
        link = os.readlink(candidate)
        if link.startswith("/"):
            current = Path("/")
        pending.extend(p for p in reversed(link.split("/")) if p not in ("", "."))
    return current


def _check_protected(link: Path, st: os.stat_result) -> None:
    """fs.protected_symlinks: in a sticky, world-writable directory a link is followed
    only by its owner, or when the directory's owner owns it."""
    parent = os.stat(link.parent)
    sticky_shared = parent.st_mode & stat.S_ISVTX and parent.st_mode & stat.S_IWOTH
    if sticky_shared and st.st_uid not in (os.geteuid(), parent.st_uid):
        raise ProtectedSymlinkError(
            errno.EACCES,
            f"not followed: a symlink owned by uid {st.st_uid} in the sticky world-writable "
            f"{link.parent} (as fs.protected_symlinks refuses)",
            str(link),
        )


def open_growing(path: str | Path) -> BinaryIO:
    """A binary stream onto ``path`` for a file written as it grows: a regular file (or a
    new path) is truncated and written in place, keeping its mode; a FIFO or a character
    device is written into, a socket connected to, ``/dev/stdout`` and the like dup'ed.
    A block device or a directory is refused (OSError), as ``write_text_atomic`` does."""
    fd = _own_descriptor(str(path))
    if fd is not None:
        return os.fdopen(os.dup(fd), "wb")
    target = resolve(str(path))  # the protected_symlinks rule, as write_text_atomic
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG
    if stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        flags = os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC
        if stat.S_ISREG(mode):
            flags |= os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        return os.fdopen(os.open(target, flags, 0o666), "wb")
    if stat.S_ISSOCK(mode):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(target))
            return os.fdopen(sock.detach(), "wb")
        except BaseException:
            sock.close()
            raise
    if stat.S_ISLNK(mode):
        raise OSError(40, "too many levels of symbolic links", str(path))
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "is a directory", str(path))
    raise OSError(1, "is a block device or another special file: not written", str(path))


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
