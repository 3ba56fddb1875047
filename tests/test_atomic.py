"""Safe writing on real nodes under tmp_path: a device stays a device, a FIFO's reader gets
the text, a symlink stays a link, a file keeps its mode."""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from inspector.render.atomic import write_text_atomic

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
