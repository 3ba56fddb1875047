"""The Prometheus exporter: a front end over the same live feed as the TUI.

``metrics`` turns each ``LiveUpdate`` (and the doctor's verdicts) into metric families
and serves them.  May import every floor below the front ends (``model`` up to
``render``); nothing imports it but ``commands``.
"""
