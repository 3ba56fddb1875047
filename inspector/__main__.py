"""``python -m inspector`` runs the cnet command."""

from inspector.cli import entry

entry()
