"""Safe writing on real nodes under tmp_path: a device stays a device, a FIFO's reader gets
the text, a symlink stays a link, a file keeps its mode."""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from inspector.render.atomic import ProtectedSymlinkError, open_growing, write_text_atomic

TEXT = '{"schema_version": 1}\n'


def _only(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_new_file_is_written_with_the_umask(tmp_path) -> None:
    old = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "new.json", TEXT)
    finally:
        os.umask(old)
    target = tmp_path / "new.json"
    assert target.read_text() == TEXT
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert _only(tmp_path) == ["new.json"]


def test_existing_file_keeps_its_mode_and_inode_is_replaced(tmp_path) -> None:
    target = tmp_path / "secret.json"
    target.write_text("old")
    target.chmod(0o600)
    before = target.stat().st_ino
    write_text_atomic(target, TEXT)
    assert target.read_text() == TEXT
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.stat().st_ino != before  # renamed over, not rewritten in place
    assert _only(tmp_path) == ["secret.json"]


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
def test_character_device_stays_a_device(tmp_path) -> None:
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # a null device node of our own
    write_text_atomic(node, TEXT)
    st = os.lstat(node)
    assert stat.S_ISCHR(st.st_mode)
    assert st.st_rdev == os.makedev(1, 3)
    assert _only(tmp_path) == ["null"]  # no temporary file left beside it


def test_fifo_reader_gets_the_text_and_the_fifo_stays(tmp_path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    write_text_atomic(fifo, TEXT)
    reader.join()
    assert got == [TEXT]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _only(tmp_path) == ["pipe"]


def test_unix_socket_gets_the_text(tmp_path) -> None:
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
            got.append(b"".join(chunks))

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        write_text_atomic(path, TEXT)
        thread.join()
    finally:
        server.close()
    assert got == [TEXT.encode()]
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_symlink_stays_a_link_and_its_target_is_replaced(tmp_path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "report.json"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    write_text_atomic(link, TEXT)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == TEXT
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert _only(real_dir) == ["report.json"]


def test_dangling_symlink_creates_its_target(tmp_path) -> None:
    link = tmp_path / "latest.json"
    link.symlink_to("made.json")
    write_text_atomic(link, TEXT)
    assert link.is_symlink()
    assert (tmp_path / "made.json").read_text() == TEXT


def test_symlink_loop_is_refused(tmp_path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError, match="symbolic links"):
        write_text_atomic(tmp_path / "a", TEXT)
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a block device needs root")
def test_block_device_is_refused(tmp_path) -> None:
    node = tmp_path / "disk"
    os.mknod(node, stat.S_IFBLK | 0o600, os.makedev(7, 200))  # a loop device number; never opened
    with pytest.raises(OSError, match="block device"):
        write_text_atomic(node, TEXT)
    assert stat.S_ISBLK(os.lstat(node).st_mode)


def test_directory_is_refused(tmp_path) -> None:
    with pytest.raises(IsADirectoryError):
        write_text_atomic(tmp_path, TEXT)
    assert _only(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_root_keeps_the_owner_of_a_file_it_replaces(tmp_path) -> None:
    target = tmp_path / "theirs.json"
    target.write_text("old")
    os.chown(target, 65534, 65534)
    write_text_atomic(target, TEXT)
    st = target.stat()
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    assert target.read_text() == TEXT


def test_dev_stdout_writes_the_descriptor(capfd) -> None:
    write_text_atomic("/dev/stdout", TEXT)
    assert capfd.readouterr().out == TEXT


def test_a_growing_file_is_written_in_place_and_readable_while_it_grows(tmp_path) -> None:
    target = tmp_path / "live.pcapng"
    target.write_text("old")
    os.chmod(target, 0o640)
    inode = os.stat(target).st_ino
    with open_growing(target) as fh:
        fh.write(b"first")
        fh.flush()
        assert target.read_bytes() == b"first"  # a reader sees it before the end
        fh.write(b" second")
    assert target.read_bytes() == b"first second"
    st = os.stat(target)
    assert st.st_ino == inode and stat.S_IMODE(st.st_mode) == 0o640
    with open_growing(tmp_path / "new.pcapng") as fh:
        fh.write(b"x")
    assert (tmp_path / "new.pcapng").read_bytes() == b"x"


def test_a_growing_file_refuses_a_directory_and_follows_a_fifo(tmp_path) -> None:
    with pytest.raises(IsADirectoryError):
        open_growing(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with open_growing(fifo) as fh:
        fh.write(b"packets")
    reader.join(10)
    assert got == [b"packets"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


# -- fs.protected_symlinks, checked by cnet itself (the sysctl is 0 on some hosts) ---------

OTHER_UID = 65534  # nobody: a user who is not the writer and does not own the directory


@pytest.fixture
def sticky_dir():
    """A sticky world-writable directory of the test's own under /tmp (as /tmp is)."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="cnethx-sticky-", dir="/tmp"))
    try:
        path.chmod(0o1777)
        yield path
    finally:
        shutil.rmtree(path)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a link to another uid needs root")
def test_another_users_link_in_a_sticky_dir_is_not_followed(sticky_dir, tmp_path) -> None:
    victim = tmp_path / "shadow"
    victim.write_text("root's secret\n")
    link = sticky_dir / "report.md"
    link.symlink_to(victim)
    os.lchown(link, OTHER_UID, OTHER_UID)
    assert os.lstat(link).st_uid == OTHER_UID and os.stat(victim).st_uid == 0
    with pytest.raises(ProtectedSymlinkError, match="protected_symlinks"):
        write_text_atomic(link, TEXT)
    assert victim.read_text() == "root's secret\n"  # untouched
    assert link.is_symlink() and _only(sticky_dir) == ["report.md"]
    # the same link, one directory deeper in the path, is refused the same way
    os.unlink(link)
    (sticky_dir / "dir").symlink_to(tmp_path)
    os.lchown(sticky_dir / "dir", OTHER_UID, OTHER_UID)
    with pytest.raises(ProtectedSymlinkError):
        write_text_atomic(sticky_dir / "dir" / "shadow", TEXT)
    assert victim.read_text() == "root's secret\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_own_link_or_the_dir_owners_link_in_a_sticky_dir_is_followed(sticky_dir, tmp_path) -> None:
    target = tmp_path / "report.md"
    mine = sticky_dir / "mine.md"
    mine.symlink_to(target)  # the writer's own link
    write_text_atomic(mine, TEXT)
    assert target.read_text() == TEXT
    owned = tmp_path / "owned"
    owned.mkdir(mode=0o1777)
    owned.chmod(0o1777)
    os.chown(owned, OTHER_UID, OTHER_UID)
    theirs = owned / "theirs.md"
    theirs.symlink_to(target)
    os.lchown(theirs, OTHER_UID, OTHER_UID)  # the directory's owner's link: followed
    write_text_atomic(theirs, TEXT + "2")
    assert target.read_text() == TEXT + "2"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a link to another uid needs root")
def test_cnet_snapshot_o_through_such_a_link_is_one_line_exit_2(sticky_dir, tmp_path) -> None:
    from tests.cli import assert_one_line_error, cnet

    victim = tmp_path / "shadow"
    victim.write_text("secret\n")
    link = sticky_dir / "report.md"
    link.symlink_to(victim)
    os.lchown(link, OTHER_UID, OTHER_UID)
    proc = cnet("--demo", "snapshot", "-f", "markdown", "-o", str(link))
    line = assert_one_line_error(proc, 2)
    assert "protected_symlinks" in line
    assert victim.read_text() == "secret\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a link to another uid needs root")
def test_a_growing_file_refuses_another_users_link_in_a_sticky_dir(sticky_dir, tmp_path) -> None:
    """A capture's pcapng (written in place as it grows) obeys the same symlink rule."""
    victim = tmp_path / "shadow"
    victim.write_text("secret\n")
    link = sticky_dir / "live.pcapng"
    link.symlink_to(victim)
    os.lchown(link, OTHER_UID, OTHER_UID)
    with pytest.raises(ProtectedSymlinkError):
        open_growing(link)
    assert victim.read_text() == "secret\n"
