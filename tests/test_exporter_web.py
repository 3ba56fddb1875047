"""The exporter on a network: ``--web.config.file`` with TLS, client certificates and basic
auth.  Certificates are made by openssl for each test, hashes by bcrypt; the clients are
a real Prometheus, curl and Python's ssl, never cnet's own code."""

from __future__ import annotations

import base64
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import pytest

from inspector.collect.counters import read_container_counters
from inspector.exporter.metrics import DoctorCache, Exporter
from inspector.exporter.server import BasicAuth
from inspector.exporter.serving import Serving
from inspector.exporter.web_config import load_web_config
from tests.cli import assert_one_line_error, cnet
from tests.test_exporter import (
    PROMETHEUS,
    CountingFeed,
    prom_query,
    scripted_snapshot,
)

USER, PASSWORD = "prom", "s3cret pass: with colon"
GUARD_S = 60.0


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@dataclass(frozen=True)
class Pki:
    dir: Path

    def __getitem__(self, name: str) -> str:
        return str(self.dir / name)


def make_ca(d: Path, name: str) -> None:
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", "2", "-subj", f"/CN={name}",
        "-keyout", str(d / f"{name}.key"), "-out", str(d / f"{name}.crt"),
    )  # fmt: skip


def issue(d: Path, ca: str, name: str, ext: str) -> None:
    """``name``.crt and .key, signed by ``ca``, with the extensions in ``ext``."""
    (d / f"{name}.ext").write_text(ext)
    openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-subj", f"/CN={name}",
        "-keyout", str(d / f"{name}.key"), "-out", str(d / f"{name}.csr"),
    )  # fmt: skip
    openssl(
        "x509", "-req", "-in", str(d / f"{name}.csr"), "-days", "2",
        "-CA", str(d / f"{ca}.crt"), "-CAkey", str(d / f"{ca}.key"), "-CAcreateserial",
        "-extfile", str(d / f"{name}.ext"), "-out", str(d / f"{name}.crt"),
    )  # fmt: skip


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA, a server certificate for 127.0.0.1, a client certificate from the same CA,
    and one from another CA."""
    d = tmp_path_factory.mktemp("cnetse-pki")
    make_ca(d, "ca")
    make_ca(d, "otherca")
    issue(d, "ca", "server", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    issue(d, "ca", "client", "extendedKeyUsage=clientAuth\n")
    issue(d, "otherca", "stranger", "extendedKeyUsage=clientAuth\n")
    return Pki(d)


def hashed(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def web_config(
    tmp_path: Path, pki: Pki, auth: str = "", users: bool = True, extra: str = ""
) -> Path:
    text = (
        f"tls_server_config:\n  cert_file: {pki['server.crt']}\n  key_file: {pki['server.key']}\n"
    )
    if auth:
        text += f"  client_auth_type: {auth}\n  client_ca_file: {pki['ca.crt']}\n"
    text += extra
    if users:
        text += f"basic_auth_users:\n  {USER}: '{hashed(PASSWORD)}'\n"
    path = tmp_path / "web.yml"
    path.write_text(text)
    return path


@contextmanager
def serving(config: Path) -> Iterator[Serving]:
    exporter = Exporter(read_container_counters, DoctorCache(lambda s: [], lambda: 0))
    s = Serving(
        CountingFeed(scripted_snapshot()), exporter, ("127.0.0.1", 0), load_web_config(str(config))
    )
    try:
        yield s
    finally:
        s.close()


def curl(port: int, pki: Pki, *extra: str) -> subprocess.CompletedProcess[str]:
    """curl's own TLS and HTTP: ``-w`` adds the status code on the last line."""
    return subprocess.run(
        ["curl", "-sS", "--max-time", "20", "--cacert", pki["ca.crt"], "-w", "\n%{http_code}",
         *extra, f"https://127.0.0.1:{port}/metrics"],
        capture_output=True, text=True, timeout=GUARD_S,
    )  # fmt: skip


def status(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout.rsplit("\n", 1)[-1]


def test_basic_auth_admits_the_right_password_only(tmp_path: Path, pki: Pki) -> None:
    with serving(web_config(tmp_path, pki)) as s:
        good = curl(s.port, pki, "-u", f"{USER}:{PASSWORD}")
        assert status(good) == "200", good.stderr
        assert "cnet_interface_receive_bytes_total{" in good.stdout
        for creds in (f"{USER}:wrong", f"nobody:{PASSWORD}", f"{USER}:{PASSWORD}x"):
            bad = curl(s.port, pki, "-u", creds)
            assert status(bad) == "401", creds
            assert "cnet_" not in bad.stdout
        # No credentials: 401 and the challenge a browser or Prometheus answers.
        ctx = ssl.create_default_context(cafile=pki["ca.crt"])
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"https://127.0.0.1:{s.port}/metrics", context=ctx, timeout=20)
        assert caught.value.code == 401
        assert caught.value.headers["WWW-Authenticate"].startswith('Basic realm="cnet"')


def test_a_required_client_certificate_is_checked(tmp_path: Path, pki: Pki) -> None:
    with serving(web_config(tmp_path, pki, "RequireAndVerifyClientCert", users=False)) as s:
        with_cert = curl(s.port, pki, "--cert", pki["client.crt"], "--key", pki["client.key"])
        assert status(with_cert) == "200", with_cert.stderr
        without = curl(s.port, pki)
        assert without.returncode != 0 and "cnet_" not in without.stdout
        assert status(without) == "000"  # no HTTP answer at all
        stranger = curl(s.port, pki, "--cert", pki["stranger.crt"], "--key", pki["stranger.key"])
        assert stranger.returncode != 0 and "cnet_" not in stranger.stdout


def test_an_optional_client_certificate_is_verified_when_given(tmp_path: Path, pki: Pki) -> None:
    with serving(web_config(tmp_path, pki, "VerifyClientCertIfGiven", users=False)) as s:
        assert status(curl(s.port, pki)) == "200"
        stranger = curl(s.port, pki, "--cert", pki["stranger.crt"], "--key", pki["stranger.key"])
        assert stranger.returncode != 0 and "cnet_" not in stranger.stdout


def test_min_version_refuses_an_older_client(tmp_path: Path, pki: Pki) -> None:
    extra = "  min_version: TLS13\n"
    with serving(web_config(tmp_path, pki, users=False, extra=extra)) as s:
        assert status(curl(s.port, pki, "--tlsv1.3")) == "200"
        old = curl(s.port, pki, "--tlsv1.2", "--tls-max", "1.2")
        assert old.returncode != 0 and status(old) == "000"


def test_idle_connections_do_not_stop_other_scrapes(tmp_path: Path, pki: Pki) -> None:
    """Clients that connect and never start the handshake: the accepting thread must not
    wait on them (prometheus_client's own server does)."""
    with serving(web_config(tmp_path, pki)) as s, ExitStack() as held:
        for _ in range(3):
            idle = held.enter_context(socket.create_connection(("127.0.0.1", s.port)))
            idle.settimeout(GUARD_S)
        for _ in range(2):
            answer = curl(s.port, pki, "-u", f"{USER}:{PASSWORD}")
            assert status(answer) == "200", answer.stderr


@pytest.mark.skipif(PROMETHEUS is None, reason="needs Debian's prometheus package")
def test_a_real_prometheus_scrapes_over_tls_with_a_client_certificate_and_basic_auth(
    tmp_path: Path, pki: Pki
) -> None:
    from tests.test_exporter import start_prometheus

    job = (
        "    scheme: https\n"
        "    tls_config:\n"
        f"      ca_file: {pki['ca.crt']}\n"
        f"      cert_file: {pki['client.crt']}\n"
        f"      key_file: {pki['client.key']}\n"
        "    basic_auth:\n"
        f"      username: {USER}\n"
        f"      password: '{PASSWORD}'\n"
    )
    with serving(web_config(tmp_path, pki, "RequireAndVerifyClientCert")) as s:
        proc, port = start_prometheus(tmp_path, s.port, job)
        try:
            up: list[dict[str, object]] = []
            counter: list[dict[str, object]] = []
            deadline = time.monotonic() + GUARD_S
            while time.monotonic() < deadline and not (up and counter):
                time.sleep(0.5)
                try:
                    up = prom_query(port, 'up{job="cnet"} == 1')
                    counter = prom_query(port, "cnet_interface_receive_bytes_total")
                except OSError:
                    continue  # not listening yet
            assert up, "Prometheus never scraped the exporter over TLS"
            assert counter
        finally:
            proc.terminate()
            proc.wait(30)


# -- a bad config: one line naming the file, exit 2 ----------------------------------------


def bad_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad web.yml"
    path.write_text(text)
    proc = cnet("exporter", "--listen", "127.0.0.1:0", "--web.config.file", str(path), timeout=60)
    line = assert_one_line_error(proc, 2)
    assert str(path) in line
    return line


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yml"
    proc = cnet("exporter", "--web.config.file", str(missing), timeout=60)
    assert str(missing) in assert_one_line_error(proc, 2)


def test_bad_yaml_is_one_line(tmp_path: Path) -> None:
    assert "not valid YAML at line 3" in bad_config(tmp_path, "basic_auth_users:\n  a: [\n")


def test_an_unknown_key_is_one_line(tmp_path: Path, pki: Pki) -> None:
    assert "'rate_limit'" in bad_config(tmp_path, "rate_limit:\n  burst: 2\n")
    text = f"tls_server_config:\n  cert_file: {pki['server.crt']}\n  key_file: {pki['server.key']}\n  cipher_suites: []\n"
    assert "tls_server_config.'cipher_suites'" in bad_config(tmp_path, text)


def test_a_bad_hash_is_one_line(tmp_path: Path) -> None:
    assert "not a bcrypt hash" in bad_config(tmp_path, "basic_auth_users:\n  prom: plain\n")
    broken = "$2y$10$" + "!" * 53
    assert "not a valid bcrypt hash" in bad_config(
        tmp_path, f"basic_auth_users:\n  prom: '{broken}'\n"
    )


def test_an_unreadable_certificate_is_one_line(tmp_path: Path, pki: Pki) -> None:
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("not a certificate\n")
    text = f"tls_server_config:\n  cert_file: {garbage}\n  key_file: {pki['server.key']}\n"
    assert str(garbage) in bad_config(tmp_path, text)
    mismatched = (
        f"tls_server_config:\n  cert_file: {pki['server.crt']}\n  key_file: {pki['client.key']}\n"
    )
    assert "cannot load cert_file" in bad_config(tmp_path, mismatched)
    text = f"tls_server_config:\n  cert_file: {tmp_path / 'gone.crt'}\n  key_file: {pki['server.key']}\n"
    assert "gone.crt" in bad_config(tmp_path, text)


def test_client_auth_needs_its_ca_and_an_unverified_mode_is_refused(
    tmp_path: Path, pki: Pki
) -> None:
    base = (
        f"tls_server_config:\n  cert_file: {pki['server.crt']}\n  key_file: {pki['server.key']}\n"
    )
    assert "needs client_ca_file" in bad_config(
        tmp_path, base + "  client_auth_type: RequireAndVerifyClientCert\n"
    )
    assert "unverified" in bad_config(tmp_path, base + "  client_auth_type: RequireAnyClientCert\n")


def test_relative_paths_are_the_files_directory(tmp_path: Path, pki: Pki) -> None:
    """As in exporter-toolkit: cert_file: server.crt beside the config."""
    config = pki.dir / "relative.yml"
    config.write_text("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")
    loaded = load_web_config(str(config))
    assert loaded.tls is not None and loaded.tls.cert_file == pki["server.crt"]


def test_connections_beyond_the_cap_are_closed_at_once(
    tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("inspector.exporter.server.MAX_CONNECTIONS", 3)
    # Longer than the test waits: a connection the cap did not close would still be open.
    monkeypatch.setattr("inspector.exporter.server.HANDSHAKE_TIMEOUT_S", 2 * GUARD_S)
    with serving(web_config(tmp_path, pki, users=False)) as s:
        held = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(3)]
        try:
            extra = socket.create_connection(("127.0.0.1", s.port))
            extra.settimeout(GUARD_S)
            with extra:
                assert extra.recv(1) == b""  # closed by the server, not left waiting
        finally:
            for sock in held:
                sock.close()
        # Their threads end with them and give their places back.
        deadline = time.monotonic() + GUARD_S
        while status(curl(s.port, pki)) != "200":
            assert time.monotonic() < deadline, "the places were never given back"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer abc",
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no colon").decode(),
        "Basic " + base64.b64encode(f"{USER}:".encode() + b"x" * 100).decode(),  # > 72 bytes
        "Basic " + base64.b64encode(f"{USER}:{PASSWORD[:-1]}".encode()).decode(),
    ],
)
def test_basic_auth_refuses_what_is_not_the_password(header: str | None) -> None:
    auth = BasicAuth({USER: hashed(PASSWORD).encode()})
    assert not auth.allows(header)
    good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert auth.allows(good) and auth.allows(good)  # the second one remembered
