"""TCP and UDP health of a network namespace: the kernel's MIB counters.

``/proc/PID/net/snmp`` and ``/proc/PID/net/netstat`` are that process's namespace view (the
same numbers ``nstat`` shows inside it), read without entering the namespace.  Each file is
pairs of lines, ``Tcp: Name1 Name2 ...`` then ``Tcp: 1 2 ...``.  Only the counters an
operator asks about are kept: retransmits, resets, failed attempts, listen queue overflows
and drops, UDP receive-buffer errors (a socket that reads too slowly), plus the segments
sent that a retransmit ratio needs.
"""

from __future__ import annotations

from inspector.model.snapshot import TcpHealth

# field name -> (file, MIB group, counter name); the nstat name is group + counter.
COUNTERS: dict[str, tuple[str, str, str]] = {
    "out_segs": ("snmp", "Tcp", "OutSegs"),
    "retrans_segs": ("snmp", "Tcp", "RetransSegs"),
    "out_rsts": ("snmp", "Tcp", "OutRsts"),
    "estab_resets": ("snmp", "Tcp", "EstabResets"),
    "attempt_fails": ("snmp", "Tcp", "AttemptFails"),
    "in_errs": ("snmp", "Tcp", "InErrs"),
    "listen_overflows": ("netstat", "TcpExt", "ListenOverflows"),
    "listen_drops": ("netstat", "TcpExt", "ListenDrops"),
    "udp_in_errors": ("snmp", "Udp", "InErrors"),
    "udp_rcvbuf_errors": ("snmp", "Udp", "RcvbufErrors"),
}


def nstat_name(field_name: str) -> str:
    """The name ``nstat`` gives a counter (``TcpRetransSegs``, ``TcpExtListenDrops``)."""
    _, group, name = COUNTERS[field_name]
    return group + name


def parse_mib(text: str) -> dict[str, dict[str, int]]:
    """``{group: {counter: value}}`` of one snmp/netstat file; a malformed pair is skipped."""
    out: dict[str, dict[str, int]] = {}
    lines = text.splitlines()
    for names_line, values_line in zip(lines[::2], lines[1::2], strict=False):
        group, _, names = names_line.partition(":")
        group2, _, values = values_line.partition(":")
        if group != group2:
            continue
        try:
            out[group.strip()] = dict(zip(names.split(), map(int, values.split()), strict=True))
        except ValueError:
            continue
    return out


def health_from(snmp: str, netstat: str) -> TcpHealth:
    """The counters out of the two files' text (missing ones stay 0)."""
    mib = {"snmp": parse_mib(snmp), "netstat": parse_mib(netstat)}
    values = {
        name: mib[file].get(group, {}).get(counter, 0)
        for name, (file, group, counter) in COUNTERS.items()
    }
    return TcpHealth(**values)


def read_health(pid: int | None) -> TcpHealth | None:
    """The counters of the namespace of ``pid`` (the host's when None); None when it is
    gone or unreadable: the caller says so and shows the rest."""
    base = "/proc/net" if pid is None else f"/proc/{pid}/net"
    try:
        with open(f"{base}/snmp", encoding="ascii", errors="replace") as f:
            snmp = f.read(65536)
        with open(f"{base}/netstat", encoding="ascii", errors="replace") as f:
            netstat = f.read(65536)
    except OSError:
        return None
    return health_from(snmp, netstat)
