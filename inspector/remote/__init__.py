"""cnet on another host, through the system's ``ssh``: a front end beside the TUI.

``ssh`` runs one-shot commands and the ``RemoteFeed`` stream there; ``hosts`` shows many
hosts side by side.  May import every floor below the front ends; nothing imports it but
``commands`` (and the TUI, which shows a remote feed).
"""
