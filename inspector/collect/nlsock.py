"""A netlink socket read synchronously: pyroute2's messages without pyroute2's loop.

pyroute2 0.9 runs every request through an asyncio loop of its own: about 35
``run_until_complete`` round trips per namespace read (two thirds of its cost), and a
conntrack dump of 1,000 entries spent 50-95 ms there against 25-40 ms here.  A plain
``AF_NETLINK`` socket sends the request pyroute2's own message class encoded, ``recv``
takes the reply, and a pyroute2 marshal parses each message into the objects pyroute2
would give.  Only the netlink header is read here (to frame, match and end a dump);
everything inside a message is pyroute2's.

Two savings before pyroute2 sees a message: ``skip`` leaves out a whole message from its
fixed header, and ``keep`` leaves out the attributes nobody reads (pyroute2 builds an
object for every attribute, and that is what a dump's time goes to).

A socket belongs to the namespace of the thread that made it.  Only asks: nothing sent
here changes the kernel's state.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import struct
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any

from pyroute2.netlink import NLM_F_DUMP, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR
from pyroute2.netlink.exceptions import NetlinkError

SOL_NETLINK = 270
NETLINK_GET_STRICT_CHK = 12
"""The kernel keeps a dump to what was asked for (4.20+): a route dump with no table
asked gives every table."""
RECV_BYTES = 1 << 17
"""A dump arrives in parts of at most 32 kB; room to spare so none is truncated."""
NLMSG_HEADER = struct.Struct("IHHII")  # length, type, flags, sequence number, port id
NLA_HEADER = struct.Struct("HH")  # length, type
NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED and NLA_F_NET_BYTEORDER

NLMSG_SEQ_AT = 8
_ENCODED: dict[tuple[int, bool, Hashable], bytes] = {}
"""Requests encoded once (``same``): pyroute2's encoder cost as much as a small dump's
parsing, three or four times per namespace."""
_KIND = struct.Struct("H")
_UNSEEN = object()

Skip = Callable[[bytes, int], bool]
Keep = tuple[int, "Wanted"]
"""The size of the headers before a message's attributes, and the attributes kept."""


def nla_types(message_class: Any, names: tuple[str, ...]) -> frozenset[int]:
    """The attribute numbers of ``names`` in a pyroute2 message class's ``nla_map``."""
    numbers: dict[str, int] = {}
    for n, entry in enumerate(message_class.nla_map):
        number, name = (entry[0], entry[1]) if isinstance(entry[0], int) else (n, entry[0])
        numbers[name] = number
    return frozenset(numbers[name] for name in names)


def nla_type(message_class: Any, name: str) -> int:
    """The attribute number of ``name`` in a pyroute2 message class's ``nla_map``."""
    (number,) = nla_types(message_class, (name,))
    return number


Wanted = Mapping[int, "Wanted | None"]
"""Attribute types to keep: each whole (None), or only the nested attributes named."""


def whole(types: frozenset[int]) -> Wanted:
    """Each of ``types`` kept whole."""
    return dict.fromkeys(types)


def only_attributes(data: bytes, offset: int, length: int, fixed: int, keep: Wanted) -> bytes:
    """The message at ``offset`` with only the attributes ``keep`` names (nested ones
    filtered the same way), its length set again; ``fixed`` is the size of the headers
    before the attributes."""
    out = bytearray(data[offset : offset + fixed])
    out += _kept(data, offset + fixed, offset + length, keep)
    struct.pack_into("I", out, 0, len(out))
    return bytes(out)


def _kept(data: bytes, at: int, end: int, keep: Wanted) -> bytearray:
    out = bytearray()
    while at + NLA_HEADER.size <= end:
        size, kind = NLA_HEADER.unpack_from(data, at)
        if size < NLA_HEADER.size or at + size > end:
            break  # malformed: what came before is kept, as pyroute2 would
        if kind & NLA_TYPE_MASK in keep:
            inner = keep[kind & NLA_TYPE_MASK]
            if inner is None:
                out += data[at : at + size]
                out += bytes(-size % 4)
            else:  # each kept child is padded to 4: so is the rebuilt parent
                body = _kept(data, at + NLA_HEADER.size, at + size, inner)
                out += NLA_HEADER.pack(NLA_HEADER.size + len(body), kind)
                out += body
        at += (size + 3) & ~3
    return out


class Memo:
    """What each message of a dump became (``make``), by its bytes, for the next dump of
    the same kind: a message the kernel sends again unchanged is not parsed again.

    The host's safety-net dump every 30 s sent 1,000 unchanged bridge ports and their
    addresses to pyroute2 each time (2-4 s of a core at 1,000 namespaces).  The key is the
    message without its netlink header (whose sequence number changes every dump); a link
    message keeps no counters (``keep``), so an idle link's bytes do not change.  Only what
    the last complete dump held is kept: the memory is one record per message."""

    def __init__(self, make: Callable[[Any], Any]) -> None:
        self.make = make
        self.last: dict[bytes, Any] = {}
        self.next: dict[bytes, Any] = {}

    @contextlib.contextmanager
    def dump(self) -> Iterator[None]:
        """One dump (or several, as one): what it held is what the next one reuses; a
        dump that fails leaves the last one's."""
        self.next = {}
        yield
        self.last, self.next = self.next, {}


def one_dump(memo: Memo | None) -> contextlib.AbstractContextManager[None]:
    """``memo.dump()``, or nothing to keep without a memo."""
    return memo.dump() if memo is not None else contextlib.nullcontext()


class NetlinkSocket:
    """One netlink socket of ``protocol`` in the namespace of the thread that made it;
    one thread uses it.  ``marshal`` is the pyroute2 marshal that parses its answers."""

    def __init__(self, protocol: int, marshal: Any, *, strict: bool = False) -> None:
        self._sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, protocol
        )
        try:
            if strict:
                self._sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
            self._sock.bind((0, 0))
        except OSError:
            self._sock.close()
            raise
        self._marshal = marshal
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> NetlinkSocket:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def ask(
        self,
        msg: Any,
        kind: int,
        dump: bool = False,
        skip: Skip | None = None,
        keep: Keep | None = None,
        memo: Memo | None = None,
        same: Hashable | None = None,
    ) -> list[Any]:
        """Send one request and read its whole answer (every part of a dump): pyroute2's
        messages, or with ``memo`` what its ``make`` made of them (inside ``memo.dump``).
        ``same``: a name for a request that is always the same but for its sequence
        number (a dump of every link): pyroute2 encodes it once per process."""
        return list(self.answers(msg, kind, dump, skip, keep, memo, same))

    def answers(
        self,
        msg: Any,
        kind: int,
        dump: bool = False,
        skip: Skip | None = None,
        keep: Keep | None = None,
        memo: Memo | None = None,
        same: Hashable | None = None,
    ) -> Iterator[Any]:
        """The answer's messages as each part arrives: a caller can stop early (the rest
        of a dump a later request skips by its sequence number)."""
        self._seq += 1
        seq = self._seq
        if same is not None and (kind, dump, same) in _ENCODED:
            request = bytearray(_ENCODED[(kind, dump, same)])
            struct.pack_into("I", request, NLMSG_SEQ_AT, seq)
        else:
            msg["header"]["type"] = kind
            msg["header"]["flags"] = NLM_F_REQUEST | (NLM_F_DUMP if dump else 0)
            msg["header"]["sequence_number"] = seq
            msg["header"]["pid"] = 0
            msg.encode()
            request = msg.data
            if same is not None:
                _ENCODED[(kind, dump, same)] = bytes(request)
        self._sock.send(request)
        parse = self._marshal.parse_one_message
        while True:
            data = self._sock.recv(RECV_BYTES)
            offset, done = 0, False
            while offset + NLMSG_HEADER.size <= len(data):
                length, mtype, flags, mseq, _port = NLMSG_HEADER.unpack_from(data, offset)
                if length < NLMSG_HEADER.size:
                    raise OSError(errno.EPROTO, "a netlink message shorter than its header")
                here, offset = offset, offset + ((length + 3) & ~3)
                if mseq != seq:
                    continue  # an answer to an earlier request given up on
                if mtype == NLMSG_DONE:
                    done = True
                elif mtype == NLMSG_ERROR:
                    (code,) = struct.unpack_from("i", data, here + NLMSG_HEADER.size)
                    if code:
                        raise NetlinkError(-code, os.strerror(-code))
                    done = True  # an acknowledgement
                elif skip is None or not skip(data, here):
                    raw, at, size = data, here, length
                    if keep is not None:
                        raw = only_attributes(data, here, length, *keep)
                        at, size = 0, len(raw)
                    if memo is None:
                        yield parse(mtype, flags, mseq, raw, at, size)
                    else:
                        key = _KIND.pack(mtype) + raw[at + NLMSG_HEADER.size : at + size]
                        made = memo.last.get(key, _UNSEEN)
                        if made is _UNSEEN:
                            made = memo.make(parse(mtype, flags, mseq, raw, at, size))
                        memo.next[key] = made
                        yield made
                    if not flags & NLM_F_MULTI:
                        done = True
            if done:
                return
