"""cnet --host: parsing, the bounded line reader, the stream's records, failures as one
line (a scripted ``ssh`` program), and a real Debian sshd on 127.0.0.1 talking to this
same machine as the remote host.

No Docker: both sides run with DOCKER_HOST pointing nowhere, so the host's own
interfaces are what is compared."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inspector import __version__
from inspector.commands.on_host import relayed_argv
from inspector.live.runner import LiveStatus, LiveUpdate, stale_update
from inspector.remote.ssh import (
    LineReader,
    RemoteError,
    RemoteFeed,
    RemoteHost,
    Ssh,
    handshake_line,
    parse_host,
    run_command,
    update_from_json,
)
from inspector.render.snapshot_json import to_dict
from inspector.tui.app import make_app
from tests.lab import free_port
from tests.test_tui import sync, wait_for

WORKTREE = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
NO_DOCKER = {**os.environ, "DOCKER_HOST": "unix:///nonexistent", "PYTHONPATH": str(WORKTREE)}
SSHD = "/usr/sbin/sshd"
STATUS = LiveStatus(False, True, True, 1.5, 30.0)


def cnet(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "inspector", *args],
        capture_output=True,
        text=True,
        env=NO_DOCKER,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


# -- pure parts --------------------------------------------------------------------------


def test_parse_host() -> None:
    assert parse_host("ssh://web1") == RemoteHost("web1")
    assert parse_host("ssh://ops@web1:2222") == RemoteHost("web1", "ops", 2222)
    assert parse_host("ssh://[::1]:22") == RemoteHost("::1", None, 22)
    for bad in ("web1", "http://web1", "ssh://", "ssh://-oProxyCommand=x", "ssh://a:0", "ssh://@a"):
        with pytest.raises(ValueError):
            parse_host(bad)


def test_ssh_argv_is_batch_mode_with_a_timeout_and_quotes_the_remote_command() -> None:
    ssh = Ssh(RemoteHost("web1", "ops", 2222), "/opt/my cnet", "/tmp/cfg")
    argv = ssh.argv([ssh.cnet("doctor", "a b")])
    assert argv[:5] == ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
    assert argv[-3:] == ["--", "web1", "'/opt/my cnet' doctor 'a b'"]
    assert argv[5:7] == ["-F", "/tmp/cfg"] and "2222" in argv and "ops" in argv


def test_relayed_argv_drops_only_the_remote_options() -> None:
    argv = ["--host", "ssh://a", "--remote-command=/x", "--ssh-conf", "c", "doctor", "-v", "web"]
    assert relayed_argv(argv) == ["doctor", "-v", "web"]
    assert relayed_argv(["--host=ssh://a", "ping", "--", "--host"]) == ["ping", "--", "--host"]


def test_line_reader_bounds_memory(tmp_path: Path) -> None:
    r, w = os.pipe()
    with os.fdopen(r, "rb") as rf:
        os.write(w, b"short\n" + b"x" * 5000)
        os.close(w)
        reader = LineReader(rf, limit=1000)
        assert reader.readline(5) == b"short"
        with pytest.raises(ValueError):
            reader.readline(5)


def test_line_reader_times_out() -> None:
    r, w = os.pipe()
    with os.fdopen(r, "rb") as rf:
        with pytest.raises(TimeoutError):
            LineReader(rf).readline(0.05)
        os.close(w)
        assert LineReader(rf).readline(5) is None


def test_stream_records_round_trip(recorded: object) -> None:
    from inspector.model.snapshot import Snapshot

    assert isinstance(recorded, Snapshot)
    import dataclasses

    line = json.dumps({"status": dataclasses.asdict(STATUS), "snapshot": to_dict(recorded)})
    update = update_from_json(json.loads(line))
    assert update == LiveUpdate(recorded, STATUS)
    for bad in (
        {},
        {"status": {}, "snapshot": {}},
        {"status": {**dataclasses.asdict(STATUS), "reading": 1}},
    ):
        with pytest.raises(ValueError):
            update_from_json(bad)


def test_a_stale_update_says_why_and_follows_nothing(recorded: object) -> None:
    from inspector.model.snapshot import Snapshot

    assert isinstance(recorded, Snapshot)
    stale = stale_update(LiveUpdate(recorded, STATUS), "web1: the connection ended")
    assert stale.snapshot.warnings[-1] == "stale: web1: the connection ended"
    assert not stale.status.kernel_events and not stale.status.engine_events


# -- failures through a scripted ssh program -----------------------------------------------


def fake_ssh(tmp_path: Path, script: str) -> Ssh:
    program = tmp_path / "ssh"
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(0o755)
    return Ssh(RemoteHost("web1"), program=str(program))


def test_a_version_that_does_not_match_is_one_line(tmp_path: Path) -> None:
    ssh = fake_ssh(tmp_path, 'echo "cnet 0.0.0-old"; echo "{}"\n')
    with pytest.raises(RemoteError, match=r"^web1: cnet says 'cnet 0.0.0-old', this is cnet "):
        run_command(ssh, ["snapshot"])
    old = fake_ssh(tmp_path, 'echo \'{"cnet": "stream", "version": "0.0.0", "protocol": 1}\'\n')
    with pytest.raises(RemoteError, match=r"^web1: .*install the same version there"):
        RemoteFeed(old).open()


def test_an_older_cnet_without_stream_is_one_line(tmp_path: Path) -> None:
    ssh = fake_ssh(tmp_path, "echo 'cnet: error: invalid choice' >&2; exit 2\n")
    with pytest.raises(RemoteError, match=r"^web1: cnet did not run: cnet: error: invalid choice"):
        RemoteFeed(ssh).open()


def test_a_remote_that_floods_one_line_is_cut_off(tmp_path: Path) -> None:
    ssh = fake_ssh(tmp_path, "head -c 100000 /dev/zero | tr '\\0' x\n")
    with pytest.raises(RemoteError, match=r"^web1: cnet did not run: no version line"):
        run_command(ssh, ["snapshot"])


def test_the_remote_exit_code_and_output_are_relayed(tmp_path: Path) -> None:
    ssh = fake_ssh(tmp_path, f'echo "cnet {__version__}"; echo out; echo err >&2; exit 3\n')
    out = tmp_path / "out"
    with out.open("wb") as fh:
        assert run_command(ssh, ["doctor"], fh) == 3
    assert out.read_bytes() == b"out\n"


def test_the_feed_publishes_then_marks_itself_stale(tmp_path: Path, recorded: object) -> None:
    import dataclasses

    from inspector.model.snapshot import Snapshot

    assert isinstance(recorded, Snapshot)
    record = tmp_path / "update.json"
    record.write_text(
        json.dumps({"status": dataclasses.asdict(STATUS), "snapshot": to_dict(recorded)}) + "\n"
    )
    ssh = fake_ssh(tmp_path, f"echo '{handshake_line()}'; cat {record}\n")
    got: list[LiveUpdate] = []
    feed = RemoteFeed(ssh)
    feed.start(got.append)
    deadline = time.monotonic() + 20
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    feed.stop()
    assert got[0] == LiveUpdate(recorded, STATUS)
    assert got[1].snapshot.warnings[-1].startswith("stale: web1: ")
    assert feed.lost is not None


# -- a real sshd on loopback ---------------------------------------------------------------


@dataclass(frozen=True)
class SshServer:
    port: int
    config: Path
    remote_command: Path
    client_key: Path

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def ssh(self) -> Ssh:
        return Ssh(parse_host(self.url), str(self.remote_command), str(self.config))

    def args(self) -> list[str]:
        return ["--ssh-config", str(self.config), "--remote-command", str(self.remote_command)]


def keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30
    )


def wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("sshd exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("sshd did not listen")


@contextlib.contextmanager
def loopback_sshd(tmp: Path) -> Iterator[SshServer]:
    """Debian's sshd on 127.0.0.1 with keys, configs and a ``cnet`` wrapper made under
    ``tmp`` (the remote end runs this checkout, with no Docker engine); stopped after."""
    keygen(tmp / "hostkey")
    keygen(tmp / "client")
    (tmp / "authorized_keys").write_text((tmp / "client.pub").read_text())
    port = free_port()
    (tmp / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {tmp / 'hostkey'}\n"
        f"PidFile {tmp / 'sshd.pid'}\nAuthorizedKeysFile {tmp / 'authorized_keys'}\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
    )
    config = tmp / "ssh_config"
    config.write_text(
        f"Host *\n  IdentityFile {tmp / 'client'}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {tmp / 'known_hosts'}\n  StrictHostKeyChecking accept-new\n"
    )
    remote = tmp / "cnet"
    remote.write_text(
        "#!/bin/sh\n"
        f'DOCKER_HOST=unix:///nonexistent PYTHONPATH={WORKTREE} exec {PYTHON} -m inspector "$@"\n'
    )
    remote.chmod(0o755)
    os.makedirs("/run/sshd", exist_ok=True)
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(tmp / "sshd_config")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port, proc)
        yield SshServer(port, config, remote, tmp / "client")
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    if not (os.path.exists(SSHD) and shutil.which("ssh") and os.geteuid() == 0):
        pytest.skip("needs Debian's openssh-server and openssh-client, as root")
    with loopback_sshd(tmp_path_factory.mktemp("cnrm-sshd")) as server:
        yield server


def host_names(snapshot_json: str) -> set[str]:
    return {i["name"] for i in json.loads(snapshot_json)["host"]["interfaces"]}


def test_a_remote_snapshot_is_the_local_one(sshd: SshServer) -> None:
    before = cnet("snapshot")
    remote = cnet(*sshd.args(), "--host", sshd.url, "snapshot")
    after = cnet("snapshot")
    assert remote.returncode == 0, remote.stderr
    local_before, local_after = host_names(before.stdout), host_names(after.stdout)
    got = host_names(remote.stdout)
    # Links other work makes or removes meanwhile are in one local read or the other.
    assert local_before & local_after <= got <= local_before | local_after
    assert "lo" in got
    assert json.loads(remote.stdout)["containers"] == json.loads(before.stdout)["containers"]


def test_a_remote_usage_error_keeps_its_exit_code(sshd: SshServer) -> None:
    got = cnet(*sshd.args(), "--host", sshd.url, "doctor", "cnrm-no-such-container")
    assert got.returncode in (1, 2)
    assert "Traceback" not in got.stderr


@pytest.mark.parametrize(
    "change, expect",
    [
        ("port", "cannot connect with ssh: .*Connection refused"),
        ("key", "cannot connect with ssh: .*Permission denied"),
        ("command", r"no /nonexistent there .*give --remote-command PATH"),
    ],
)
def test_failures_are_one_line_naming_the_host(
    sshd: SshServer, tmp_path: Path, change: str, expect: str
) -> None:
    import re

    args = sshd.args()
    url = sshd.url
    if change == "port":
        url = f"ssh://root@127.0.0.1:{free_port()}"
    elif change == "key":
        keygen(tmp_path / "other")
        config = tmp_path / "ssh_config"
        config.write_text(
            sshd.config.read_text().replace(str(sshd.client_key), str(tmp_path / "other"))
        )
        args[1] = str(config)
    else:
        args[3] = "/nonexistent"
    for command in (["snapshot"], []):
        got = cnet(*args, "--host", url, *command)
        lines = got.stderr.splitlines()
        assert got.returncode == 1
        assert len(lines) == 1, got.stderr
        assert re.match(rf"cnet: 127\.0\.0\.1:\d+: {expect}", lines[0]), lines[0]


@sync
async def test_the_remote_feed_fills_the_tui(sshd: SshServer) -> None:
    feed = RemoteFeed(sshd.ssh())
    app = make_app(feed=feed)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            # The first update is the engine's list (none: no engine); the host's links follow.
            await wait_for(
                pilot,
                lambda: app.view is not None and "lo" in app.view.host_interfaces,
                seconds=30,
            )
            # Other tests' namespaces may be on this host: a workload selected narrows the
            # host panes to it.  A filter that matches none puts them back on the host.
            await pilot.press("slash", *"cnrm-matches-nothing", "enter")
            await wait_for(pilot, lambda: not app.pane("containers").rows_shown)
            assert any(r.key == "lo" for r in app.pane("interfaces").rows_shown)
            assert feed.lost is None
    finally:
        feed.stop()
