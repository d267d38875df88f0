"""What a command runs once its input is checked: one probe, the endpoint matrix, the demo.

Each runs under the loop watchdog and the hard deadline, then hands its result to
`deliver` (file, stdout, GitHub). Importable without typer: the CLI is only wiring.
"""
