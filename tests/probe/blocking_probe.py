"""A probe whose own event loop gets blocked, run as a subprocess by test_guard.py.

`python -m tests.probe.blocking_probe MODE FORMAT STAGE [matrix]` probes a healthy simulated
Binance with `binance_diag.run.probe.run_probe_command`, as `binance-diag probe` does (or, with
`matrix`, it and a refused port side by side, as `--endpoint A,B` does), while a tracer
listener blocks the loop when STAGE starts. The hard deadline must end the process (exit 2)
and print a FORMAT report; the lines named in the report are the ones marked below.
"""

from __future__ import annotations

import asyncio
import sys
import time

from binance_diag.config.timeouts import Timeouts
from binance_diag.model import StageName
from binance_diag.probe.base import Tracer
from binance_diag.render.formats import OutputFormat
from binance_diag.run.matrix import run_matrix_command
from binance_diag.run.probe import run_probe_command
from binance_diag.simulate.scenario import probe_config, start_fault

BUDGET = 0.5
FOREVER = 30.0


def sleep_forever() -> None:
    time.sleep(FOREVER)  # BLOCKING LINE: sleep


def spin_forever() -> None:
    end = time.monotonic() + FOREVER
    while time.monotonic() < end:  # BLOCKING LINE: spin
        pass


def main(mode: str, format_name: str, stage: str, matrix: str = "") -> int:
    output_format = OutputFormat(format_name)
    block = {"sleep": sleep_forever, "spin": spin_forever}[mode]
    blocked_stage = StageName(stage)

    def listener(name: StageName, event: str, duration_ms: float | None) -> None:
        if name is blocked_stage and event == "start":  # a loop callback, inside the stage
            asyncio.get_running_loop().call_soon(block)

    tracer = Tracer(listeners=[listener])
    timeouts = Timeouts(dns=BUDGET, proxy=BUDGET, tcp=BUDGET, tls=BUDGET, ws_upgrade=BUDGET,
                        first_message=BUDGET)
    with start_fault("healthy") as scenario, start_fault("tcp-refused") as refused:
        config = probe_config(scenario, timeouts)
        if matrix:
            configs = [config, probe_config(refused, timeouts)]
            return int(run_matrix_command(configs, output_format, None, "blocking_probe",
                                          listeners=[listener]))
        code = run_probe_command(config, output_format, None, "blocking_probe", tracer=tracer)
    return int(code)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
