"""binance-diag loopwatch bootstrap: attaches the loop watchdog to the program it runs.

`binance-diag loopwatch` puts this directory first on PYTHONPATH for that one program; Python's
`site` imports `sitecustomize` before the program's first line. Here we: tidy up (this
directory leaves sys.path, PYTHONPATH and the settings variable are restored, so the program
and its own subprocesses see their usual environment), start the agent, then run the
`sitecustomize` this file shadows, if there is one. Any failure is reported to the parent,
never raised: the program must run as it would without us.
"""

import json
import os
import sys

_VAR = "BINANCE_DIAG_LOOPWATCH"  # binance_diag.loopwatch.wire.ENV_VAR
_HERE = os.path.normcase(os.path.dirname(os.path.abspath(__file__)))


def _is_here(entry: str) -> bool:
    return os.path.normcase(os.path.abspath(entry or ".")) == _HERE


def _tidy() -> "dict[str, object] | None":
    sys.path[:] = [entry for entry in sys.path if not _is_here(entry)]
    raw = os.environ.pop(_VAR, None)
    if raw is None:
        return None
    config: dict[str, object] = json.loads(raw)
    pythonpath = config.get("pythonpath")
    if isinstance(pythonpath, str):
        os.environ["PYTHONPATH"] = pythonpath
    else:
        os.environ.pop("PYTHONPATH", None)
    return config


def _start(config: "dict[str, object]") -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this runs in any interpreter the user has
        version = ".".join(str(part) for part in sys.version_info[:3])
        raise RuntimeError(f"the watchdog needs Python >= 3.11; this program runs {version}")
    root = str(config["root"])
    added = root not in sys.path
    if added:
        sys.path.insert(0, root)
    try:
        from binance_diag.loopwatch.agent import start
    finally:
        if added:
            sys.path.remove(root)
    start(config)


def _tell_parent(config: "dict[str, object]", exc: BaseException) -> None:
    line = json.dumps({"type": "error", "message": f"{type(exc).__name__}: {exc}"})
    try:
        fd = int(str(config["fd"]))
        os.write(fd, line.encode() + b"\n")
        os.close(fd)
    except (OSError, ValueError, KeyError):
        pass


def _chain() -> None:
    """Run the sitecustomize we shadow, as `site` would have (its errors are its own)."""
    import importlib.machinery
    import importlib.util

    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


def _boot() -> None:
    config = None
    try:
        config = _tidy()
        if config is not None:
            _start(config)
    except Exception as exc:  # noqa: BLE001 - reported, never raised into the program
        if config is not None:
            _tell_parent(config, exc)
    _chain()


_boot()
