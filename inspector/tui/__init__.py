"""The cnet TUI (Textual).  Build it with ``inspector.tui.app.make_app``.

Nothing is imported here, so ``import inspector.tui`` stays cheap.
"""
