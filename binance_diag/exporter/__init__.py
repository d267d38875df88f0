"""`binance-diag serve`: a Prometheus exporter in blackbox_exporter's style.

Theory of operation: Prometheus scrapes `/probe?target=SYMBOLS&module=NAME`; each scrape runs
one probe (modules.py says how: endpoint, timeouts, pins, CA bundle, proxy), fitted inside the
scrape's own timeout (budget.py), on its own thread and event loop under the probe guard
(probing.py), and answers the diagnosed report as metrics built in a fresh registry
(metrics.py). The exporter's own figures are on `/metrics` (selfmetrics.py); recent probes and
their full reports on `/` and `/report` (history.py, pages.py); server.py routes the requests,
service.py runs it until a signal.

Held streams (`[watch.NAME]` targets) run as `watch` sessions on one event loop of the
exporter's (watching.py), started with it and reconciled on reload; their live figures join
`/metrics` through `server.Exporter.live_collectors` (watchmetrics.py).
"""
