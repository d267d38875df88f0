"""Follow-up experiments after the stages: tests of the probe's own hypotheses.

When a stage fails or is slow, the runner (runner.py) picks the experiments that tell the
causes apart (catalogue.py) and runs them against the same target under one budget; the
socket work is in small I/O shells (shell.py), the decisions are pure (`decide*`).
"""
