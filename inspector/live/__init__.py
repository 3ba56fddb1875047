"""The one runner of threads: readers in, ``LiveUpdate`` out.

``runner`` (``Live``) runs the collectors and applies their events to the inventory,
``process`` runs it in a child process for the TUI, ``sampler`` reads counters for
``rates`` (pure arithmetic over samples).  May import ``model``, ``inventory`` and
``collect``; nothing of the judgement, rendering or front ends above it.
"""
