"""Any answer to the upgrade other than 101: what its status, headers and body say.

Pure: reads the bytes the upgrade already received (no packet is sent). The body decides
when it says more than the status: Binance's JSON `msg`, a CDN's block page with its request
id, a web filter naming the category it blocks, a login page. A parser with a table of
signs, not one case per text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ...model import JSON, ErrorKind, StageName
from ...safety.sanitize import peer_text
from ...timing import Deadline
from .base import Planned, Verdict
from .catalogue import REFUSAL
from .view import RunView

QUOTE = 200
"""The longest quote of the body kept in the result."""
RELEVANT_HEADERS = ("server", "via", "retry-after", "x-cache", "x-amz-cf-id", "cf-ray",
                    "x-request-id", "x-squid-error", "location", "content-type",
                    "transfer-encoding")
_REQUEST_ID = re.compile(r"(?:request[ -]?id|ray id|reference(?: number)?|incident id|"
                         r"support id)\s*[:#]?\s*([A-Za-z0-9._=-]{6,})", re.IGNORECASE)
_CATEGORY = re.compile(r"categor(?:y|ies)\s*[:=]?\s*[\"'“]?([A-Za-z][\w &/-]{2,40}?)"
                       r"[\"'”]?(?:[.;,<\n]|\s+(?:is|are|has)\b|$)", re.IGNORECASE)
_SIGNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # (category, what the words say), most specific first: a ban is also "too many requests".
    ("restricted_location", re.compile(
        r"restricted location|not available in your (?:country|region|jurisdiction)|"
        r"unavailable (?:in|from) your (?:country|region)|eligibility", re.IGNORECASE)),
    ("ip_banned", re.compile(r"\bbanned\b|\bban(?:ned)? until\b", re.IGNORECASE)),
    ("rate_limited", re.compile(r"too many requests|rate.?limit|request weight|"
                                r"slow down", re.IGNORECASE)),
    ("web_filter", re.compile(
        r"web ?filter|content filter|url filter|blocked by (?:your )?(?:organi[sz]ation|"
        r"administrator|network policy|company policy|policy)|categor(?:y|ies)\b.*\bblocked|"
        r"blocked\b.*\bcategor(?:y|ies)", re.IGNORECASE | re.DOTALL)),
    ("captive_portal", re.compile(r"sign in|log ?in to (?:the )?(?:network|wi-?fi)|"
                                  r"accept the terms|guest wi-?fi|hotspot", re.IGNORECASE)),
    ("maintenance", re.compile(r"maintenance|system upgrade", re.IGNORECASE)),
    ("waf_block", re.compile(r"request blocked|access denied|you have been blocked|"
                             r"attention required|the request could not be satisfied",
                             re.IGNORECASE)),
)


@dataclass(frozen=True)
class Refusal:
    status: int | None
    reason: str
    headers: Mapping[str, str]
    says: str
    """What the body says in plain words (Binance's `msg`, a page's title and text)."""
    category: str
    """The first of `_SIGNS` the words match, or `status_only`."""
    request_id: str | None = None
    filter_category: str | None = None


def plan(view: RunView) -> list[Planned]:
    failed = view.failed
    if failed is None or failed.name is not StageName.WS_UPGRADE or failed.error is None \
            or failed.error.kind not in (ErrorKind.HTTP_STATUS, ErrorKind.NOT_WEBSOCKET):
        return []
    response = view.response or _from_details(failed.error.extra)

    async def run(deadline: Deadline) -> Verdict:
        return decide(parse_response(response))

    return [Planned(REFUSAL, "read the status, headers and whole body of the answer "
                    f"({len(response)} bytes already received; no packet sent)", run)]


def _from_details(extra: Mapping[str, JSON]) -> bytes:
    """Without the raw answer (a report rebuilt from JSON): the status and the excerpt."""
    head = f"HTTP/1.1 {extra.get('status', 0)} {extra.get('reason', '')}\r\n\r\n"
    return (head + str(extra.get("body_excerpt") or "")).encode()


def parse_response(data: bytes) -> Refusal:
    """Status line, headers and body of an HTTP/1.1 answer, and what the body says."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status, reason = None, ""
    match = re.match(r"HTTP/\d(?:\.\d)? (\d{3}) ?(.*)", lines[0] if lines else "")
    if match:
        status, reason = int(match.group(1)), peer_text(match.group(2))
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in RELEVANT_HEADERS:
            headers[name.strip().lower()] = peer_text(value.strip())
    if "chunked" in headers.get("transfer-encoding", ""):
        body = _dechunk(body)
    text = body.decode("utf-8", errors="replace")
    says = peer_text(_words(text, headers.get("content-type", "")), limit=None)
    category = next((name for name, sign in _SIGNS if sign.search(says)), "status_only")
    request_id = _header_id(headers) or _first(_REQUEST_ID, says)
    return Refusal(status, reason, headers, says, category, request_id,
                   _first(_CATEGORY, says) if category == "web_filter" else None)


def _dechunk(body: bytes) -> bytes:
    out, rest = bytearray(), body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2:]
    return bytes(out)


def _words(text: str, content_type: str) -> str:
    """The body in plain words: a JSON `msg`/`message`/`error`, else the page's text."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, dict):
            for key in ("msg", "message", "error", "reason", "detail"):
                said = value.get(key)
                if isinstance(said, str) and said.strip():
                    return said.strip()
    if "<" in stripped and ">" in stripped:
        stripped = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", stripped)
        stripped = re.sub(r"(?s)<!--.*?-->|<!DOCTYPE[^>]*>", " ", stripped)
        stripped = html.unescape(re.sub(r"<[^>]+>", " ", stripped))
    return re.sub(r"\s+", " ", stripped).strip()


def _header_id(headers: Mapping[str, str]) -> str | None:
    for name in ("x-amz-cf-id", "cf-ray", "x-request-id"):
        if headers.get(name):
            return headers[name]
    return None


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1).strip() if match else None


def decide(refusal: Refusal) -> Verdict:
    quote = refusal.says[:QUOTE] + ("…" if len(refusal.says) > QUOTE else "")
    status = f"HTTP {refusal.status} {refusal.reason}".strip()
    result = f"{status}; the body says {quote!r}" if quote else f"{status}; no body"
    if refusal.request_id:
        result += f" (request id {refusal.request_id})"
    details: dict[str, JSON] = {"status": refusal.status, "reason": refusal.reason,
                                "headers": dict(refusal.headers), "says": quote,
                                "category": refusal.category}
    if refusal.request_id:
        details["request_id"] = refusal.request_id
    if refusal.filter_category:
        details["filter_category"] = refusal.filter_category
    return Verdict(refusal.category, result, details)
