"""Collectors: I/O only.  Each reads one source and returns records or events.

- ``netlink``: links, addresses and routes of a namespace, and the host's notifications
  (pyroute2);
- ``engine``: the Docker engine's list, inspects, networks and events (the docker SDK);
- ``cgroups``: a container's pid from its cgroup, without asking the engine;
- ``netns``: stepping a thread into a namespace and back (``setns``);
- ``reader``: the reads above combined into the events the inventory applies.

May import ``inspector.model`` and the inventory's ``events`` (the records readers return);
nothing of the inventory's state, the renderers or the UI.  ``inspector.live.runner`` runs them.
"""
