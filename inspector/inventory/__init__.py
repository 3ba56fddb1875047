"""The pure inventory: events in, state out.

``events`` are small frozen records (a container started, a namespace dumped, a link
changed); ``state`` applies them to the inventory and builds a ``Snapshot``; ``join``
matches interfaces to containers and bridges.  No I/O: imports only ``inspector.model``,
so the hard cases (a restart, a veth changing bridge) are fast to test.
"""
