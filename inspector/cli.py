"""The ``cnet`` command line: the TUI by default, and one subcommand per job.

Each subcommand lives in ``inspector.commands.<name>`` and exposes ``add_parser`` and
``run``; this module only dispatches, so a subcommand's heavy imports are paid only
when it runs.  Every expected failure becomes one line on stderr and an exit code:
0 success, 1 the job failed, 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from inspector import __version__
from inspector.commands.shared import EXIT_FAILED, EXIT_USAGE, CliError
from inspector.live.shutdown import Terminated, exit_code, raise_on_signals
from inspector.model.safe import safe

if TYPE_CHECKING:
    pass

SUBCOMMANDS = ("snapshot", "ping", "capture", "rules", "doctor", "diff", "exporter", "stream")

LIVE_ONLY = {
    "ping": "ping sends packets from the live host's namespaces: it cannot use a saved snapshot",
    "capture": "capture reads packets on the live host: it cannot use a saved snapshot",
    "exporter": "the exporter serves the live host: it cannot use a saved snapshot",
    "stream": "stream follows the live host: it cannot use a saved snapshot",
}
"""Subcommands that refuse the global ``--load``/``--demo`` rather than ignore it."""
REFUSING = ", ".join(list(LIVE_ONLY)[:-1]) + " and " + list(LIVE_ONLY)[-1]
"""Their names as ``--help`` gives them, so it says what the code does."""


class HelpFormatter(argparse.HelpFormatter):
    """Wraps help to the terminal, measured with ``os`` (argparse's own default imports
    ``shutil``, ~3 ms on every run, help or not)."""

    def __init__(self, prog: str) -> None:
        try:
            columns = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size().columns
        except (ValueError, OSError):
            columns = 80
        super().__init__(prog, width=max(columns - 2, 40))


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0: {text!r}")
    return value


def build_parser() -> Parser:
    parser = Parser(
        prog="cnet",
        description="cnet: the container network inspector. Without a subcommand, opens the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"cnet {__version__}")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--load",
        metavar="FILE",
        help="work on a saved JSON snapshot instead of the live host: the TUI, snapshot, "
        "doctor, diff and rules (against the rules recorded with it) use it (all but the TUI "
        f"also read - as stdin); {REFUSING} refuse it",
    )
    source.add_argument(
        "--demo", action="store_true", help="the same on the demo snapshot shipped with cnet"
    )
    parser.add_argument(
        "--interval",
        type=non_negative_float,
        default=30.0,
        metavar="SECONDS",
        help="the TUI follows kernel and Docker events; as a safety net it also reads the "
        "host, the engine's list and up to 50 namespaces again every SECONDS, each "
        "namespace in turn (default 30; 0 for never)",
    )
    parser.add_argument(
        "--mount-tracefs",
        action="store_true",
        help="when tracefs is not mounted, mount it at /sys/kernel/tracing so that ping, the "
        "TUI's p and the doctor can name the kernel's drop reasons (docs/drops.md)",
    )
    remote = parser.add_argument_group("remote hosts (docs/remote.md)")
    remote.add_argument(
        "--host",
        action="append",
        metavar="ssh://[user@]host[:port]",
        help="run on that host through ssh (the TUI, snapshot, doctor, rules, ping, capture); "
        "repeat it to see several hosts in one TUI",
    )
    remote.add_argument(
        "--remote-command",
        default="cnet",
        metavar="PATH",
        help="the cnet to run on the remote host (default: cnet on its PATH)",
    )
    remote.add_argument("--ssh-config", metavar="FILE", help="an ssh config file (ssh -F)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"inspector.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        if args.host:
            from inspector.commands import on_host  # why: start-up

            return on_host.run(args, argv)
        if (args.load or args.demo) and args.command in LIVE_ONLY:
            raise CliError(LIVE_ONLY[args.command], EXIT_USAGE)
        if args.load == "-" and args.command is None:
            raise CliError("the TUI reads its keys from stdin: give --load a file", EXIT_USAGE)
        if args.mount_tracefs:
            from inspector.collect import tracefs  # why: start-up (only when asked)

            tracefs.allow_mount()
        module = importlib.import_module(f"inspector.commands.{args.command or 'tui'}")
        code: int = module.run(args)
        return code
    except CliError as exc:
        print(f"cnet: {safe(str(exc))}", file=sys.stderr)  # file names, host names
        return exc.code
    except KeyboardInterrupt:
        return exit_code(signal.SIGINT)
    except Terminated as exc:
        return exit_code(exc.signum)
    except BrokenPipeError:
        return EXIT_FAILED
    finally:
        # Whatever started a child (podman, ssh, iptables-save, nsenter) stops it now, or
        # it would run on under pid 1; nothing to do when that module was never loaded.
        started = sys.modules.get("inspector.collect.children")
        if started is not None:
            started.stop_all()


def entry() -> None:
    raise_on_signals()  # here, not in main: tests call main in the test runner's process
    code = main()
    # At exit the interpreter runs a last collection over every object of every module;
    # the OS frees them anyway. Freezing them skips that pass: ~4 ms of a cnet snapshot.
    gc.freeze()
    sys.exit(code)
