"""`binance-diag watch`: hold a market stream for hours, probe beside it, catch the stall.

One module per idea: `stats` (bounded streaming statistics), `series` (probes in a row),
`stream` (the held stream's figures), `events` (what happened, how bad, Binance's own
events told apart), `forensics` (a stall's conclusion), `held` (the held connection),
`incidents` (reports on disk), `view` (live view and plain lines), `session` (all of it
together, with reconnects, the periodic probe and the summary). This package imports
nothing at import time.
"""
