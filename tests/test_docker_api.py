"""cnet's Docker API client against a scripted engine on a unix socket: framing and failures."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inspector.collect.docker_api import PIPELINE_DEPTH, DockerAPI, DockerUnavailable, NotFound

Reply = Callable[[bytes], bytes | None]


class Engine:
    """What the fake engines saw: connections accepted, and for each reply sent, how many
    requests had arrived on its connection without an answer yet (itself included)."""

    def __init__(self) -> None:
        self.connections = 0
        self.unanswered: list[int] = []


@pytest.fixture
def seen() -> Engine:
    return Engine()


@pytest.fixture
def engine(tmp_path: Path, seen: Engine) -> Iterator[Callable[[Reply], str]]:
    """Start a fake engine answering each request with ``reply(request_line)``; None = hang.

    Like Docker's, it reads requests in order and answers them one by one, so a client may
    pipeline them.
    """
    servers: list[socket.socket] = []
    stop = threading.Event()

    def drain(conn: socket.socket, buf: bytes) -> bytes:
        """Whatever else the client has sent by now, without waiting for more."""
        conn.setblocking(False)
        try:
            while chunk := conn.recv(4096):
                buf += chunk
        except BlockingIOError:
            pass
        finally:
            conn.setblocking(True)
        return buf

    def start(reply: Reply) -> str:
        path = str(tmp_path / f"docker{len(servers)}.sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen()
        servers.append(server)

        def converse(conn: socket.socket) -> None:
            with conn, contextlib.suppress(OSError):  # OSError: the client went away
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
                    buf = drain(conn, buf)
                    seen.unanswered.append(1 + buf.count(b"\r\n\r\n"))
                    conn.sendall(answer)
                    if b"Connection: close" in answer:
                        break

        def serve() -> None:  # like the engine: each connection is served on its own
            while not stop.is_set():
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                seen.connections += 1
                threading.Thread(target=converse, args=(conn,), daemon=True).start()

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
    assert api.get("/containers/a/json")["State"]["Pid"] == 5


def test_404_is_not_found(engine) -> None:
    api = DockerAPI(
        engine(lambda _req: sized({"message": "No such container: x"}, "404 Not Found"))
    )
    with pytest.raises(NotFound):
        api.get("/containers/x/json")


def inspect_reply(request_line: bytes) -> bytes:
    """An inspect answer naming the container the request asked for; ``gone*`` are 404."""
    ref = request_line.split(b" ")[1].split(b"/")[2].decode()
    if ref.startswith("gone"):
        return sized({"message": f"No such container: {ref}"}, "404 Not Found")
    if ref == "c0":
        time.sleep(0.05)  # time for the client to send more, if it does not wait for replies
    return chunked({"Id": ref, "State": {"Pid": int(ref[1:]) if ref[1:].isdigit() else 1}})


def test_inspects_are_pipelined_in_order_within_the_window(engine, seen) -> None:
    refs = [f"c{i}" for i in range(3 * PIPELINE_DEPTH)]
    api = DockerAPI(engine(inspect_reply))
    replies = list(api.inspect_containers(refs))
    assert [r["Id"] if r else None for r in replies] == refs
    assert [r["State"]["Pid"] for r in replies if r] == list(range(3 * PIPELINE_DEPTH))
    # Requests were in flight together, never more than the window; one connection.
    assert max(seen.unanswered) == PIPELINE_DEPTH > 1
    assert seen.connections == 1
    assert api.get("/containers/c7/json")["Id"] == "c7"  # the connection is still in step


def test_a_container_gone_mid_stream_is_none_and_the_rest_follow(engine) -> None:
    api = DockerAPI(engine(inspect_reply))
    replies = list(api.inspect_containers(["c1", "gone2", "c3"]))
    assert [r["Id"] if r else None for r in replies] == ["c1", None, "c3"]


def test_engine_closing_mid_stream_gets_the_rest_asked_again(engine, seen) -> None:
    answered = 0

    def close_every_third(request_line: bytes) -> bytes:
        nonlocal answered
        answered += 1
        reply = inspect_reply(request_line)
        if answered % 3 == 0:  # then the engine hangs up with requests still unanswered
            reply = reply.replace(b"\r\n", b"\r\nConnection: close\r\n", 1)
        return reply

    refs = [f"c{i}" for i in range(10)]
    replies = list(DockerAPI(engine(close_every_third)).inspect_containers(refs))
    assert [r["Id"] if r else None for r in replies] == refs
    # Three hang-ups, each with requests unanswered (Linux may report the last as a reset).
    assert seen.connections >= 4


def test_abandoned_stream_does_not_leave_replies_for_the_next_request(engine) -> None:
    def reply(request_line: bytes) -> bytes:
        if request_line.startswith(b"GET /containers/json"):
            return sized([{"Id": "listed"}])
        return inspect_reply(request_line)

    api = DockerAPI(engine(reply))
    stream = api.inspect_containers([f"c{i}" for i in range(8)])
    assert next(stream)["Id"] == "c0"
    stream.close()  # seven replies were still due on that connection
    assert api.containers() == [{"Id": "listed"}]


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

    list(DockerAPI(engine(reply)).inspect_containers(["../../evil x"]))
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
