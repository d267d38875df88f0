"""Local fake Binance peers with named faults, for the tests, `simulate` and `demo`.

Everything binds to loopback only. Import from the submodules (`scenario.start_fault`,
`faults.FAULTS`, `server.BinanceStreamServer`...): this package imports nothing itself, so
listing the fault catalogue stays cheap.
"""
