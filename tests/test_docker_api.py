"""cnet's Docker API client against a scripted engine on a unix socket: framing and failures."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inspector.collect.docker_api import DockerAPI, DockerUnavailable, NotFound

Reply = Callable[[bytes], bytes | None]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Callable[[Reply], str]]:
    """Start a fake engine answering each request with ``reply(request_line)``; None = hang."""
    servers: list[socket.socket] = []
    stop = threading.Event()

    def start(reply: Reply) -> str:
        path = str(tmp_path / f"docker{len(servers)}.sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen()
        servers.append(server)

        def serve() -> None:
            while not stop.is_set():
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                with conn:
                    buf = b""
                    while not stop.is_set():
                        while b"\r\n\r\n" not in buf:
                            chunk = conn.recv(4096)
                            if not chunk:
                                break
                            buf += chunk
                        if b"\r\n\r\n" not in buf:
                            break
                        request, buf = buf.split(b"\r\n\r\n", 1)
                        answer = reply(request.split(b"\r\n", 1)[0])
                        if answer is None:
                            stop.wait(10)
                            break
                        conn.sendall(answer)

        threading.Thread(target=serve, daemon=True).start()
        return f"unix://{path}"

    yield start
    stop.set()
    for s in servers:
        s.close()


def chunked(doc: object, status: str = "200 OK") -> bytes:
    body = json.dumps(doc).encode()
    parts = [body[:7], body[7:]]
    chunks = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts if p)
    return (
        f"HTTP/1.1 {status}\r\nTransfer-Encoding: chunked\r\n\r\n".encode() + chunks + b"0\r\n\r\n"
    )


def sized(doc: object, status: str = "200 OK", extra: str = "") -> bytes:
    body = json.dumps(doc).encode()
    return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def test_chunked_and_sized_replies_on_one_keep_alive_connection(engine) -> None:
    replies = iter([chunked([{"Id": "a"}]), sized({"Id": "a", "State": {"Pid": 5}})])
    api = DockerAPI(engine(lambda _req: next(replies)))
    assert api.containers() == [{"Id": "a"}]
    assert api.inspect_container("a")["State"]["Pid"] == 5


def test_404_is_not_found(engine) -> None:
    api = DockerAPI(
        engine(lambda _req: sized({"message": "No such container: x"}, "404 Not Found"))
    )
    with pytest.raises(NotFound):
        api.inspect_container("x")


def test_server_error_message_is_reported(engine) -> None:
    api = DockerAPI(engine(lambda _req: sized({"message": "boom"}, "500 Internal Server Error")))
    with pytest.raises(DockerUnavailable, match=r"500.*boom"):
        api.containers()


def test_connection_close_reply_then_reconnect(engine) -> None:
    api = DockerAPI(engine(lambda _req: sized([], extra="Connection: close\r\n")))
    assert api.containers() == []
    assert api.containers() == []


def test_hung_engine_times_out(engine) -> None:
    api = DockerAPI(engine(lambda _req: None), timeout=0.3)
    with pytest.raises(DockerUnavailable, match=r"did not answer within 0\.3 s"):
        api.containers()


def test_garbage_reply(engine) -> None:
    api = DockerAPI(engine(lambda _req: b"SSH-2.0-OpenSSH\r\n\r\n"))
    with pytest.raises(DockerUnavailable):
        api.containers()


def test_request_path_is_quoted(engine) -> None:
    seen: list[bytes] = []

    def reply(req: bytes) -> bytes:
        seen.append(req)
        return sized({})

    DockerAPI(engine(reply)).inspect_container("../../evil x")
    assert seen == [b"GET /containers/..%2F..%2Fevil%20x/json HTTP/1.1"]


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("unix:///nonexistent/docker.sock", "no Docker socket at /nonexistent/docker.sock"),
        ("ssh://user@host", "unsupported DOCKER_HOST"),
    ],
)
def test_unreachable_hosts(host: str, message: str) -> None:
    with pytest.raises(DockerUnavailable, match=message):
        DockerAPI(host).containers()
