"""Things cnet does on request, each in the right namespace (``ping``; capture joins it).

An action sends or reads packets only when asked.  May import ``model`` and ``collect``
(to step into a namespace); never the judgement, rendering or front ends above it, and
nothing below asks an action for a query (those live in ``inspector.model.queries``).
"""
