"""`binance-diag loopwatch -- python bot.py`: the loop watchdog, attached to a program that
knows nothing about it (DESIGN.md §6).

How it gets in: a bootstrap directory holding only a `sitecustomize.py` is put first on the
program's PYTHONPATH, with the settings in one environment variable. Python's `site` imports
`sitecustomize` before the program's first line, whatever the program is (`python bot.py`,
`python -m bot`, `python -c`, with any interpreter options), so the program runs exactly as
typed: same `sys.argv`, `sys.path[0]`, `__main__`, `-m` package semantics. The bootstrap takes
itself back out (sys.path, PYTHONPATH, the variable), starts the agent (`agent.py`), then runs
the `sitecustomize` it shadowed, if any (Debian's, a venv's, the user's).

Why not rewrite `python X` into `python -m binance_diag.loopwatch_boot X`: that re-implements
`runpy` for scripts, modules, `-c` and stdin (and `__main__` pickling, `sys.argv[0]`,
`sys.path[0]`) and must parse every interpreter option to rewrite them; any gap changes how
the program behaves under diagnosis. Why not a user-level `usercustomize`: it is skipped in
venvs. The cost of `sitecustomize`: `-I`, `-E` and `-S` switch it off, so they are refused
with exit 3 (`command.py`), and the interpreter must be Python >= 3.11 (the agent says so
through the pipe if it cannot start: the run goes on, unwatched, and the summary says why).

How it reports: JSON lines over a pipe whose write end the program inherits (`pass_fds`); the
agent never touches the program's stdin, stdout, stderr or logging. The parent prints each
blockage on stderr as it happens (`live.py`) and the summary when the program ends
(`report.py`, `render.py`); `run.py` passes the exit status and signals through.

Modules: `command` (which commands are accepted), `wire` (the pipe's events), `agent` (in the
program), `boot/sitecustomize.py`, `live`, `report`, `render` (pure), `run` (processes).
"""
