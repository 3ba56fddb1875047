"""Discovery and attribution on recorded data: mount tables, cgroup paths, the CNI result
cache, Podman's replies, and the dedupe of namespaces over a real (made up) /proc tree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from inspector.collect import cri, discover, podman
from inspector.collect.attribute import attribute, from_cgroup, pod_uid, unit
from inspector.model.records import CniResult, FoundNamespace
from tests.conftest import DATA

RUNTIMES = DATA / "runtimes"  # what the runtimes answered here (not snapshots)

DOCKER_ID = "4f6d2c1b" * 8
PODMAN_ID = "42f3def490d72b37bf3d32a5ad9ce2025d8809fdd2b076ddd91fccebf2244bca"
CRI_ID = "5f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

MOUNTINFO = (
    "95 27 0:4 net:[4026531833] /run/docker/netns/default rw - nsfs nsfs rw\n"
    "6398 48 0:4 net:[4026547178] /run/netns/cnns-x rw shared:203 - nsfs nsfs rw\n"
    "988 48 0:4 net:[4026534428] /run/netns/netns-e4d4 rw shared:33 - nsfs nsfs rw\n"
    "990 48 0:4 net:[4026534500] /run/netns/with\\040space rw - nsfs nsfs rw\n"
    "991 48 0:4 mnt:[4026534501] /run/mnt-ns rw - nsfs nsfs rw\n"
    "27 1 0:25 / /run rw,nosuid shared:5 - tmpfs tmpfs rw\n"
)


def test_nsfs_mounts_are_read_from_the_mount_table() -> None:
    assert discover.nsfs_mounts(MOUNTINFO) == [
        "/run/docker/netns/default",
        "/run/netns/cnns-x",
        "/run/netns/netns-e4d4",
        "/run/netns/with space",  # mountinfo escapes a space as \040
    ]  # a mount namespace's nsfs file and a tmpfs are not network namespaces


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("0::/system.slice/docker-abc.scope\n", "/system.slice/docker-abc.scope"),
        (
            "9:name=systemd:/libpod_parent/libpod-x\n8:pids:/libpod_parent/libpod-x\n0::/\n",
            "/libpod_parent/libpod-x",
        ),
        ("4:memory:/process_api/3b7d\n1:cpu:/\n0::/\n", "/process_api/3b7d"),
        ("9:name=systemd:/\n0::/\n", "/"),
    ],
)
def test_the_cgroup_path_judged(text: str, path: str) -> None:
    assert discover.cgroup_path(text) == path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/docker/{DOCKER_ID}", ("docker", DOCKER_ID)),  # cgroupfs driver
        (f"/system.slice/docker-{DOCKER_ID}.scope", ("docker", DOCKER_ID)),  # systemd driver
        (f"/libpod_parent/libpod-{PODMAN_ID}", ("podman", PODMAN_ID)),  # recorded here
        (f"/machine.slice/libpod-{PODMAN_ID}.scope/container", ("podman", PODMAN_ID)),
        (f"/machine.slice/libpod-conmon-{PODMAN_ID}.scope", None),
        (
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_5f60_4a1b"
            f"_8c2d_3e4f5a6b7c8d.slice/cri-containerd-{CRI_ID}.scope",
            ("cri", CRI_ID),
        ),
        (f"/kubepods/besteffort/pod1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d/{CRI_ID}", ("cri", CRI_ID)),
        (f"/kubepods.slice/kubepods-pod1.slice/crio-{CRI_ID}.scope", ("cri", CRI_ID)),
        ("/system.slice/systemd-resolved.service", None),
        (f"/user.slice/{CRI_ID}", None),  # a bare id outside kubepods is nobody's
    ],
)
def test_engines_are_told_by_their_cgroups(path: str, expected: tuple[str, str] | None) -> None:
    assert from_cgroup(path) == expected


def test_pod_uids_and_units() -> None:
    path = "/kubepods.slice/kubepods-burstable-pod1b2c3d4e_5f60_4a1b_8c2d_3e4f5a6b7c8d.slice/x"
    assert pod_uid(path) == "1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d"
    assert unit("/system.slice/foo.service") == "foo.service"
    assert unit("/system.slice/foo.service/sub") == "foo.service"
    assert unit("/user.slice/user-0.slice/session-3.scope") is None


def found(
    cgroup: str | None = None, pid: int | None = 4242, comm: str = "sleep", paths=()
) -> FoundNamespace:
    return FoundNamespace(
        identity=(4, 4026530000 + (pid or 0)),
        pid=pid,
        processes=1 if pid else 0,
        comm=comm if pid else None,
        cgroup=cgroup,
        paths=tuple(paths),
    )


def test_attribution_names_what_made_each_namespace() -> None:
    by = attribute
    assert by(found(f"/docker/{DOCKER_ID}")).runtime == "docker"
    assert by(found(f"/libpod_parent/libpod-{PODMAN_ID}")).id == PODMAN_ID
    netns = by(found("/user.slice/session-3.scope", paths=["/run/netns/cnns-a"]))
    assert (netns.runtime, netns.id, netns.name) == ("netns", "netns:cnns-a", "cnns-a")
    alone = by(found(None, pid=None, paths=["/run/netns/cnns-b"]))
    assert (alone.runtime, alone.name) == ("netns", "cnns-b")
    unit_ = by(found("/system.slice/private.service", comm="daemon"))
    assert (unit_.runtime, unit_.id, unit_.name) == (
        "systemd",
        "systemd:private.service",
        "private.service",
    )
    proc = by(found("/user.slice/session-3.scope", pid=77, comm="unshare"))
    assert (proc.runtime, proc.id, proc.name) == ("process", "pid:77", "process unshare (pid 77)")
    sandbox = by(found(None, pid=None, paths=["/run/docker/netns/1e79137f552b"]))
    assert sandbox.runtime == "docker" and "1e79137f552b" in sandbox.name


def test_an_engine_beats_the_name_of_its_mount() -> None:
    """Podman mounts its namespaces under /run/netns too: the cgroup decides."""
    a = attribute(found(f"/libpod_parent/libpod-{PODMAN_ID}", paths=["/run/netns/netns-e4d4"]))
    assert a.runtime == "podman"


def test_a_pod_is_named_by_crictl_or_by_its_uid() -> None:
    path = (
        "/kubepods.slice/kubepods-burstable-pod1b2c3d4e_5f60_4a1b_8c2d_3e4f5a6b7c8d.slice/"
        f"cri-containerd-{CRI_ID}.scope"
    )
    assert attribute(found(path)).name == "pod 1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d"
    named = attribute(found(path), pod_names={CRI_ID: "default/web-0"})
    assert (named.runtime, named.id, named.name) == ("cri", CRI_ID, "default/web-0")


def test_the_cni_result_cache_as_libcni_writes_it() -> None:
    data = json.loads((RUNTIMES / "cni-result.json").read_text())
    [r] = cri.cni_result(data)
    assert r == CniResult(
        container_id=CRI_ID,
        network="k8s-pod-network",
        ifname="eth0",
        sandbox="/var/run/netns/cni-8a3e6c1f-7d2b-4c55-9e0a-1b2c3d4e5f60",
        ips=("10.244.1.5/24", "fd00:10:244:1::5/64"),
        gateway="10.244.1.1",
    )
    assert cri.cni_result({"kind": "something else"}) == []
    assert cri.cni_result(["not", "an", "object"]) == []


def test_a_cni_pod_whose_pause_is_not_in_kubepods_is_named_by_the_cache() -> None:
    [r] = cri.cni_result(json.loads((RUNTIMES / "cni-result.json").read_text()))
    ns = found(None, pid=None, paths=[r.sandbox])
    a = attribute(ns, cni={r.sandbox: r})  # type: ignore[dict-item]
    assert (a.runtime, a.id) == ("cri", CRI_ID)
    [net] = a.networks
    assert (net.name, net.ip, net.gateway, net.ipv6) == (
        "k8s-pod-network",
        "10.244.1.5",
        "10.244.1.1",
        "fd00:10:244:1::5",
    )


def test_cni_results_read_a_directory_and_skip_what_is_not_json(tmp_path: Path) -> None:
    (tmp_path / "k8s-pod-network-x-eth0").write_text((RUNTIMES / "cni-result.json").read_text())
    (tmp_path / "garbage").write_text("{not json")
    results = cri.cni_results(str(tmp_path))
    assert [r.container_id for r in results.values()] == [CRI_ID]
    assert cri.cni_results(str(tmp_path / "absent")) == {}


def test_podman_replies_become_workloads_without_their_environment() -> None:
    listed = json.loads((RUNTIMES / "podman-ps.json").read_text())
    [detail] = json.loads((RUNTIMES / "podman-inspect.json").read_text())
    running = podman.container_from_ps(listed[0], detail)
    assert (running.runtime, running.name, running.pid, running.state) == (
        "podman",
        "cnns-pod1",
        7934,
        "running",
    )
    assert running.network_mode == "bridge"
    [net] = running.networks
    assert (net.name, net.ip, net.gateway, net.mac, net.ipv6, net.ipv6_gateway) == (
        "podman",
        "10.88.0.4",
        "10.88.0.1",
        "ba:d8:51:08:43:3e",
        "fd88::4",
        "fd88::1",
    )
    assert "hunter2" not in repr(running) and "86400" not in repr(running)
    stopped = podman.container_from_ps(listed[1])
    assert (stopped.pid, stopped.state, stopped.networks) == (None, "exited", ())


def test_podman_absent_is_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(podman.shutil, "which", lambda name: None)
    assert podman.containers() is None


def test_a_podman_that_fails_says_so_in_one_line(tmp_path: Path, monkeypatch) -> None:
    fake = tmp_path / "podman"
    fake.write_text("#!/bin/sh\necho 'Error: database is locked' >&2\nexit 125\n")
    fake.chmod(0o755)
    monkeypatch.setattr(podman.shutil, "which", lambda name: str(fake))
    with pytest.raises(podman.PodmanUnavailable, match=r"^podman ps: Error: database is locked$"):
        podman.containers()


def _ns_file(root: Path, pid: int, tid: int, inode: int) -> None:
    """``/proc/PID/task/TID/ns/net``: a link that reads ``net:[INODE]``, as the kernel's."""
    ns = root / str(pid) / "task" / str(tid) / "ns"
    ns.mkdir(parents=True, exist_ok=True)
    (ns / "net").symlink_to(f"net:[{inode}]")


NSFS = os.stat("/proc/self/ns/net").st_dev


def test_every_process_and_thread_is_looked_at_and_each_namespace_named_once(
    tmp_path: Path,
) -> None:
    proc = tmp_path / "proc"
    proc.mkdir()
    _ns_file(proc, 10, 10, 111)
    _ns_file(proc, 10, 11, 111)  # a thread of the same process, same namespace: once
    _ns_file(proc, 12, 12, 111)
    _ns_file(proc, 12, 13, 222)  # a thread that did setns: its namespace counts too
    (proc / "self").mkdir()  # not a pid
    (proc / "99").mkdir()  # a process gone before its tasks were listed
    (proc / "14" / "task" / "14" / "ns").mkdir(parents=True)  # a thread gone mid-scan
    found = discover.process_namespaces(str(proc))
    assert found == {(NSFS, 111): [10, 12], (NSFS, 222): [12]}


def test_a_stale_file_under_run_netns_is_no_namespace(tmp_path: Path) -> None:
    """``ip netns add`` leaves an empty file behind when its mount is gone."""
    (tmp_path / "stale").write_text("")
    assert discover.bind_mounts(mountinfo="", dirs=[str(tmp_path)]) == {}


def test_discover_on_a_made_up_proc(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    _ns_file(proc, 30, 30, 333)
    _ns_file(proc, 20, 20, 333)
    (proc / "20" / "comm").write_text("sleep\n")
    (proc / "20" / "cgroup").write_text("0::/system.slice/demo.service\n")
    [f] = discover.discover(str(proc), mountinfo="", dirs=[])
    assert (f.identity, f.pid, f.processes, f.comm, f.cgroup, f.paths) == (
        (NSFS, 333),
        20,
        2,
        "sleep",
        "/system.slice/demo.service",
        (),
    )
    assert attribute(f).name == "demo.service"
    # found again with the same lowest pid: what was read is kept, nothing is read again
    (proc / "20" / "cgroup").write_text("0::/system.slice/other.service\n")
    [again] = discover.discover(str(proc), mountinfo="", dirs=[], known={f.identity: f})
    assert again.cgroup == "/system.slice/demo.service"
    [fresh] = discover.discover(str(proc), mountinfo="", dirs=[])
    assert fresh.cgroup == "/system.slice/other.service"


def test_podman_events_that_change_the_picture() -> None:
    line = (
        b'{"ID":"fe5fcbc4fc19","Image":"localhost/cnrl-busybox:1","Name":"cnrl-pod",'
        b'"Status":"start","Time":"2026-12-01T20:29:34.646248057Z","Type":"container",'
        b'"Attributes":{}}'
    )
    assert podman.event_action(line) == ("start", "fe5fcbc4fc19")
    assert podman.event_action(line.replace(b'"start"', b'"init"')) is None
    assert podman.event_action(line.replace(b'"container"', b'"image"')) is None
    assert podman.event_action(b"not json") is None
