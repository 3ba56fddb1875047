"""Renderers: a snapshot as JSON (the contract), Markdown or a self-contained HTML report."""

from __future__ import annotations

from inspector.model.snapshot import Snapshot

FORMATS = ("json", "markdown", "html")
EXTENSIONS = {"json": "json", "markdown": "md", "html": "html"}
_BY_EXTENSION = {
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
}


def format_of(path: str | None) -> str | None:
    """The format a file name asks for by its extension (``report.md``: markdown); None
    when it names none of FORMATS."""
    if not path:
        return None
    dot = path.rfind(".")
    return _BY_EXTENSION.get(path[dot:].lower()) if dot > path.rfind("/") else None


def render(snapshot: Snapshot, fmt: str) -> str:
    """Render in one of FORMATS (ValueError otherwise)."""
    if fmt == "json":
        from inspector.render.snapshot_json import dumps  # why: runs on every render.X import

        return dumps(snapshot)
    if fmt == "markdown":
        from inspector.render.markdown import render_markdown  # why: runs on every render.X import

        return render_markdown(snapshot)
    if fmt == "html":
        from inspector.render.html import render_html  # why: runs on every render.X import

        return render_html(snapshot)
    raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
