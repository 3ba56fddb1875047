"""One module per ``cnet`` subcommand: ``add_parser(subparsers)`` and ``run(args) -> int``."""
