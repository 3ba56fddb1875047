"""``cnet --host ssh://...``: the same command, run on other hosts through ssh.

Not a subcommand: ``cli.main`` hands over here when ``--host`` is given.  ``snapshot``,
``doctor``, ``rules`` and ``ping`` run there and their output and exit code are relayed;
without a subcommand the local TUI shows the remote's live inventory (several ``--host``
in one TUI).  Everything a remote cannot do becomes one line naming the host, exit 1;
a bad ``--host`` or a combination that cannot work is a usage error, exit 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from inspector.commands.shared import EXIT_USAGE, CliError

ONE_SHOT = ("snapshot", "doctor", "rules", "ping")
REMOTE_OPTIONS = ("--host", "--remote-command", "--ssh-config")
"""Global options that choose where cnet runs: not passed on to the remote cnet."""


def relayed_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` without the remote options (in any form argparse accepts: ``--host X``,
    ``--host=X``, an unambiguous prefix), so the remote cnet never reaches further."""
    out: list[str] = []
    skip = False
    for n, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "--":
            out.extend(argv[n:])
            break
        name = arg.partition("=")[0]
        if len(name) > 3 and any(o.startswith(name) for o in REMOTE_OPTIONS):
            skip = "=" not in arg
            continue
        out.append(arg)
    return out


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from inspector.remote.ssh import RemoteError, Ssh, parse_host, run_command  # why: start-up

    try:
        hosts = [parse_host(h) for h in args.host]
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if args.load or args.demo:
        raise CliError("--host reads live hosts: it cannot use --load or --demo", EXIT_USAGE)
    if args.command is not None and args.command not in ONE_SHOT:
        raise CliError(f"{args.command} cannot run with --host", EXIT_USAGE)
    if args.command is not None and len(hosts) > 1:
        raise CliError(f"{args.command} runs on one --host at a time", EXIT_USAGE)
    if getattr(args, "output", None) not in (None, "-") or getattr(args, "source", None):
        raise CliError(
            "with --host, files stay local: redirect stdout instead of -o, drop --from",
            EXIT_USAGE,
        )
    if len({h.label for h in hosts}) < len(hosts):
        raise CliError("--host: the same host given twice", EXIT_USAGE)
    sshes = [Ssh(h, args.remote_command, args.ssh_config) for h in hosts]
    try:
        if args.command is not None:
            return run_command(sshes[0], relayed_argv(argv))
        return _tui(sshes, args.interval)
    except RemoteError as exc:
        raise CliError(str(exc)) from None


def _tui(sshes: Sequence[object], interval: float) -> int:
    from inspector.live.feed import Feed  # why: start-up
    from inspector.remote.ssh import RemoteFeed, Ssh  # why: start-up
    from inspector.tui.app import make_app  # why: start-up
    from inspector.tui.status_line import Source  # why: start-up

    feeds: list[RemoteFeed] = []
    try:
        for ssh in sshes:
            assert isinstance(ssh, Ssh)
            feed = RemoteFeed(ssh, interval)
            feed.open()
            feeds.append(feed)
        shown: Feed = feeds[0]
        if len(feeds) > 1:
            from inspector.remote.hosts import MergedFeed  # why: start-up

            shown = MergedFeed(feeds)
        app = make_app(feed=shown, source=Source("live"), local=False)
        app.run()
    finally:
        for f in feeds:
            f.stop()
    return app.return_code or 0
