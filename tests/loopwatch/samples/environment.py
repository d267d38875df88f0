"""Prints what the program sees of loopwatch: nothing, apart from a chained sitecustomize."""

import json
import os
import sys

print(json.dumps({
    "pythonpath": os.environ.get("PYTHONPATH"),
    "variables": sorted(k for k in os.environ if k.startswith("BINANCE_DIAG_LOOPWATCH")),
    "boot_on_path": any(p.endswith(os.path.join("loopwatch", "boot")) for p in sys.path),
    "chained": os.environ.get("CHAINED_SITECUSTOMIZE"),
    "sitecustomize": getattr(sys.modules.get("sitecustomize"), "__file__", None),
}))
