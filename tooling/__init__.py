"""Tooling beside the runtime: evaluation, benchmarks and training.

The rule: nothing under ``empathic.agent``, ``empathic.policies``, ``empathic.perception`` or ``empathic.ui``'s
runtime imports this package; the ``empathic`` command imports one module of it per ``eval``/``bench`` subcommand.
"""
