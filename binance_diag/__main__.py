"""`python -m binance_diag` runs the CLI."""

from .entry import main

main()
