"""binance-diag: why can't my program get data from a Binance WebSocket market stream?

The package root imports nothing heavy so that `binance-diag --version` stays fast; the
library API (`probe`, `probe_async`, `DiagnosedReport`, `LoopWatchdog`) is loaded on first
use. See docs/library.md.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not `typing`'s: importing typing costs 10 ms of every start
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any
else:
    ModuleType = type(sys)  # `types` is not imported at start-up either

__version__ = "0.1.0"
__all__ = ["ConfigError", "DiagnosedReport", "LoopWatchdog", "__version__", "probe",
           "probe_async"]

if TYPE_CHECKING:
    from .api import ConfigError, DiagnosedReport, probe, probe_async
    from .watchdog.loop import LoopWatchdog

_API = ("ConfigError", "DiagnosedReport", "probe_async")


class _Package(ModuleType):
    """`binance_diag.probe` is the library function, though `binance_diag/probe/` is also a
    subpackage. The import system sets the package's `probe` attribute to the subpackage
    when it first loads it; the setter below lets that pass, so the attribute stays the
    function. `import binance_diag.probe.runner` and `from binance_diag.probe import tls`
    go through sys.modules and are unaffected; `import binance_diag.probe as x` is not
    (it would give the function): no module of the project does that."""

    @property
    def probe(self) -> Any:
        from .api import probe

        return probe

    @probe.setter
    def probe(self, subpackage: Any) -> None:
        pass  # the subpackage: already in sys.modules, where imports find it


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name == "LoopWatchdog":
        from .watchdog.loop import LoopWatchdog

        return LoopWatchdog
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
