"""``empathic bench ...``: speed and robustness, printed as JSON (never asserted by timed tests)."""
