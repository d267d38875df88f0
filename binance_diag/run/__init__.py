"""What a command runs once its input is checked: one probe, the endpoint matrix, the demo.

Each runs under the loop watchdog and the hard deadline, then hands its result to
`deliver` (file, stdout, GitHub). Importable without typer: the CLI is only wiring.

Freeze note: before probing, `gc.freeze()` takes everything alive (imports, the rule table)
out of the collector's sight. Otherwise a full collection of those objects lands in the first
stage and is timed as network: measured (benchmarks/probe_bench.py) 1.3 ms of "DNS" for a
`--resolve` that does nothing, 0.3 ms with the freeze.
"""
