"""The TUI on the live host: it lists the lab, and a container shows its veth as iproute2 does."""

from __future__ import annotations

import pytest

from inspector.live.process import LiveProcess
from inspector.live.runner import Live
from inspector.tui.app import make_app
from tests.lab import Lab, host_links
from tests.test_tui import detail_text, select_container, sync, wait_for


@pytest.mark.parametrize("where", ["in-process", "child process"])
@sync
async def test_live_app_lists_the_lab_and_shows_the_host_veth(lab: Lab, where: str) -> None:
    inside = {link["ifname"]: link for link in lab.ip_links_in(lab.bridge)}
    host = {link["ifindex"]: link for link in host_links()}
    veth = host[inside["eth0"]["link_index"]]["ifname"]  # iproute2's answer, not cnet's

    # cnet runs its collectors in a child (LiveProcess); the Live inside is the same
    feed = Live(reconcile=0) if where == "in-process" else LiveProcess(0)
    app = make_app(feed=feed)
    async with app.run_test(size=(120, 40)) as pilot:
        # the whole first read, not just the engine's list (namespaces not read yet)
        await wait_for(
            pilot,
            lambda: app.live_status is not None and not app.live_status.reading,
            seconds=30,
        )
        listed = {r.key for r in app.pane("containers").rows_shown}
        assert {
            lab.bridge,
            lab.multi,
            lab.host,
            lab.none,
            lab.shared,
            lab.macvlan,
            lab.stopped,
        } <= listed
        await select_container(app, pilot, lab.bridge)
        await pilot.pause()
        text = detail_text(app)
        assert veth in text
        assert f"-> {veth} -> docker0" in text
        interfaces = [r.key for r in app.pane("interfaces").rows_shown]
        assert any(veth in key for key in interfaces)
