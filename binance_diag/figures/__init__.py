"""Numbers kept in bounded memory: the log-bucketed distribution behind gaps and latencies,
and the per-stage series of repeated probes (`probe --count`, `watch`). Pure."""
