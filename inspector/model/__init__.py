"""The ground floor: what a snapshot is, and the questions every layer asks of one.

``snapshot`` holds the frozen types, ``records`` the kernel's records as collectors return
them, ``natural`` the order people expect, ``paths`` and ``words`` addresses and labels, and
``queries`` a namespace's owner at the end of a chain, its default route and a container's
gateway; ``background`` is the one threading helper every floor shares (a call on a
daemon thread, abandoned rather than joined).  Pure: imports nothing of cnet outside
``inspector.model``, so every floor above may use it and a saved snapshot can be judged without the code that reads or pings.
"""
