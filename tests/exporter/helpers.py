"""Helpers for the exporter tests: modules files for simulated peers, HTTP on loopback, and
the text exposition parsed back."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

from binance_diag.simulate.scenario import Scenario
from tests.utils import MS

HTTP_TIMEOUT = 20_000 * MS
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no *_proxy detour


def module_table(name: str, scenario: Scenario, **extra: object) -> str:
    lines = [f"[modules.{name}]", f'endpoint = "{scenario.url_base}"',
             f"resolve = {list(scenario.resolve)!r}".replace("'", '"'), "no_proxy = true"]
    if scenario.ca_bundle is not None:
        lines.append(f'ca_bundle = "{scenario.ca_bundle}"')
    lines += [f"{key} = {value!r}".replace("'", '"') for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def modules_toml(peers: Mapping[str, Scenario], **extra: object) -> str:
    return "\n".join(module_table(name, scenario, **extra) for name, scenario in peers.items())


def get(url: str, headers: Mapping[str, str] | None = None, method: str = "GET",
        timeout: float = HTTP_TIMEOUT) -> tuple[int, str, str]:
    """(status, content type, body) of a request to the exporter; errors are answers too."""
    assert url.startswith(("http://127.0.0.1:", "http://[::1]:")), url  # loopback only
    request = urllib.request.Request(url, headers=dict(headers or {}), method=method)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample: (name, sorted labels) -> value."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(exposition)
            for s in family.samples}


def value(exposition: str, name: str, **labels: str) -> float | None:
    return samples(exposition).get((name, tuple(sorted(labels.items()))))
