"""What the user asked for, validated and frozen before anything touches the network: targets
and endpoints, host names and ports, timeouts, the CA bundle, proxies, the watchdog's settings.

Pure (no I/O but reading the CA bundle). Every bad input raises `errors.ConfigError` with a
one-line message; the CLI turns it into exit code 3.
"""
