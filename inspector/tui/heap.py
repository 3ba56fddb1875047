"""The TUI's heap once it has settled: the long-lived objects leave the cycle collector's walk.

A full collection walks every tracked object, and by the time the first complete picture is
marked the heap holds Textual's widget tree, the loaded modules and a snapshot of every
namespace.  Walking them cost about 80 ms over the demo snapshot, at a moment chosen by
allocation counts, so a key press that happened to trigger it waited that long (the
Connections view's first paint: 70-100 ms, or 300-400 ms with a collection in it).  ``gc.freeze`` moves what
exists into the permanent generation: it is still freed by reference counting, only no
longer walked.  Done once: what is frozen and later becomes cyclic garbage is never
collected, so freezing again and again would leak closed screens and old widgets.
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Freeze the heap; the app calls it once, when its first complete picture is marked."""
    gc.collect()  # what is garbage now is not kept for ever
    gc.freeze()
