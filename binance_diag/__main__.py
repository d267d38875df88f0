"""`python -m binance_diag` runs the CLI."""

from .cli import main

main()
