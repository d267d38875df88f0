"""One module per command; binance_diag/cli.py registers them. Wiring only: options ->
config -> the core -> exit code, with heavy imports inside the functions."""
