"""Thin command-line front ends over the library: train, evaluate, interpolate, export, cost, data.

Each module has ``main(argv=None) -> int``; arguments are parsed only there, usage errors exit with 2,
and only these front ends configure logging and warnings. ``python -m rife_core.<name>`` and the
``rife-nas-<name>`` scripts run them.
"""
