"""Session ⇄ TOML text.

``tomllib`` reads, ``tomli_w`` writes, long text goes out as multiline strings. TOML has no
null, so absent values are simply omitted. Two details keep every Unicode string lossless:

* ``tomli_w`` turns ``\\r\\n`` into ``\\n`` inside multiline strings. A string containing
  ``\\r\\n`` is therefore written as a one-line basic string with escapes instead (still exact,
  just less pretty), as are short strings (stop sequences, tokens). Longer text with a newline
  is written as a multiline string.
* JSON-like data the server sends (logprobs, usage, extra request fields) may contain ``null``
  inside arrays, which TOML cannot hold. Such a value is stored as JSON text in a sibling
  ``<table>_json`` table instead of being silently changed.

``encode`` parses its own output before returning and refuses to produce text that would not
load back as the same session, so a writer bug can never corrupt a file quietly.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import fields
from datetime import datetime
from typing import Any

import tomli_w

from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, ClientMetrics, TimeInfo, Usage
from workbench.sessions.model import SCHEMA_VERSION, STATUSES, Exchange, Session

_SURROGATES = re.compile("[\ud800-\udfff]")
_TOP_LEVEL_KEYS = {
    "schema_version",
    "id",
    "title",
    "created",
    "updated",
    "profile",
    "base_url",
    "exchanges",
}
_METRIC_FIELDS = tuple(spec.name for spec in fields(ClientMetrics))


class SessionFormatError(ValueError):
    """The text is not a session this version can read; the message says why."""


class NewerSchemaError(SessionFormatError):
    """Written by a newer workbench: readable by it, never to be overwritten by us."""

    def __init__(self, found: int) -> None:
        super().__init__(
            f"schema_version {found} is newer than this workbench understands ({SCHEMA_VERSION})"
        )
        self.found = found


class _OneLine(str):
    """A string tomli_w must not write as multiline (it would turn ``\\r\\n`` into ``\\n``)."""

    __slots__ = ()

    def __contains__(self, item: object) -> bool:  # tomli_w asks `"\n" in s`
        if item == "\n":
            return False
        return str.__contains__(self, item)  # type: ignore[operator]


# -- encoding ------------------------------------------------------------------------------


def _contains_none(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_contains_none(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains_none(v) for v in value)
    return False


#: Strings up to this length stay on one line (``"\n\n"`` reads better than a 3-line block).
MULTILINE_MIN_LENGTH = 40


def _prepare(value: Any) -> Any:
    """Copy JSON-like data into what tomli_w writes losslessly."""
    if isinstance(value, str):
        if "\n" in value and ("\r\n" in value or len(value) <= MULTILINE_MIN_LENGTH):
            return _OneLine(value)
        return value
    if isinstance(value, dict):
        return {str(k): _prepare(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_prepare(v) for v in value]
    return value


def _table(data: dict[str, Any], into: dict[str, Any], name: str) -> None:
    """Put ``data`` under ``into[name]``; values holding null go to ``into[name + '_json']``."""
    plain: dict[str, Any] = {}
    as_json: dict[str, str] = {}
    for key, value in data.items():
        if _contains_none(value):
            as_json[key] = _prepare(json.dumps(value, ensure_ascii=False))
        else:
            plain[key] = _prepare(value)
    if plain or not as_json:
        into[name] = plain
    if as_json:
        into[f"{name}_json"] = as_json


def _choice_to_dict(choice: Choice) -> dict[str, Any]:
    out: dict[str, Any] = {"index": choice.index, "text": _prepare(choice.text)}
    if choice.tokens is not None:
        out["tokens"] = list(choice.tokens)
    if choice.finish_reason is not None:
        out["finish_reason"] = _prepare(choice.finish_reason)
    if choice.logprobs is not None:
        if _contains_none(choice.logprobs):
            out["logprobs_json"] = _prepare(json.dumps(choice.logprobs, ensure_ascii=False))
        else:
            out["logprobs"] = _prepare(choice.logprobs)
    return out


def _exchange_to_dict(exchange: Exchange) -> dict[str, Any]:
    out: dict[str, Any] = {"id": exchange.id, "status": exchange.status}
    if exchange.error is not None:
        out["error"] = _prepare(exchange.error)
    out["started_at"] = exchange.started_at
    if exchange.finished_at is not None:
        out["finished_at"] = exchange.finished_at
    for name in ("response_id", "response_model", "system_fingerprint"):
        value = getattr(exchange, name)
        if value is not None:
            out[name] = _prepare(value)
    if exchange.response_created is not None:
        out["response_created"] = exchange.response_created
    # The request exactly as it is sent: every set parameter, the prompt in its own form.
    _table(exchange.request.to_body(), out, "request")
    out["choices"] = [_choice_to_dict(choice) for choice in exchange.choices]
    if exchange.usage is not None:
        _table(_usage_dict(exchange.usage), out, "usage")
    if exchange.time_info is not None:
        _table(_time_info_dict(exchange.time_info), out, "time_info")
    if exchange.metrics is not None:
        metrics = {
            name: getattr(exchange.metrics, name)
            for name in _METRIC_FIELDS
            if getattr(exchange.metrics, name) is not None
        }
        out["metrics"] = metrics
    return out


def _usage_dict(usage: Usage) -> dict[str, Any]:
    data = dict(usage.raw)
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = getattr(usage, name)
        if value is not None:
            data.setdefault(name, value)
    return data


def _time_info_dict(time_info: TimeInfo) -> dict[str, Any]:
    data = dict(time_info.raw)
    for name in ("queue_time", "prompt_time", "completion_time", "total_time", "created"):
        value = getattr(time_info, name)
        if value is not None:
            data.setdefault(name, value)
    return data


def session_to_dict(session: Session) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "id": session.id}
    doc["title"] = _prepare(session.title)
    doc["created"] = session.created
    doc["updated"] = session.updated
    if session.profile is not None:
        doc["profile"] = _prepare(session.profile)
    if session.base_url is not None:
        doc["base_url"] = _prepare(session.base_url)
    for key, value in session.extra.items():
        if key not in _TOP_LEVEL_KEYS and not _contains_none(value):
            doc[key] = _prepare(value)
    doc["exchanges"] = [_exchange_to_dict(exchange) for exchange in session.exchanges]
    return doc


def _same(a: Any, b: Any) -> bool:
    """Equality where NaN equals NaN (a logprob may be one) and str subclasses are str."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is not type(b) and not (isinstance(a, str) and isinstance(b, str)):
        return False
    return bool(a == b)


def encode(session: Session) -> bytes:
    """UTF-8 TOML for the session; verified to load back to the same document."""
    doc = session_to_dict(session)
    text = tomli_w.dumps(doc, multiline_strings=True)
    if _SURROGATES.search(text):
        # A lone surrogate (from a JSON "\ud800" escape) is not Unicode text and cannot be
        # stored in TOML or UTF-8: it becomes U+FFFD, the only lossy case.
        text = _SURROGATES.sub("\ufffd", text)
        doc = tomllib.loads(text)
    if not _same(tomllib.loads(text), doc):
        # Should not happen; fall back to plain escaped strings rather than write a lie.
        text = tomli_w.dumps(doc, multiline_strings=False)
        if not _same(tomllib.loads(text), doc):
            raise SessionFormatError("session cannot be written as TOML without loss")
    return text.encode("utf-8")


# -- decoding ------------------------------------------------------------------------------


def _expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise SessionFormatError(f"{where}: unexpected {type(value).__name__}")
    return value


def _merge_json(data: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    table = dict(_expect(data.get(name, {}), dict, f"{where}.{name}"))
    for key, text in _expect(data.get(f"{name}_json", {}), dict, f"{where}.{name}_json").items():
        try:
            table[key] = json.loads(_expect(text, str, f"{where}.{name}_json.{key}"))
        except json.JSONDecodeError as error:
            raise SessionFormatError(f"{where}.{name}_json.{key}: {error}") from None
    return table


def _choice_from_dict(data: Any, where: str) -> Choice:
    _expect(data, dict, where)
    tokens = data.get("tokens")
    if tokens is not None:
        _expect(tokens, list, f"{where}.tokens")
    logprobs = data.get("logprobs")
    if "logprobs_json" in data:
        try:
            logprobs = json.loads(_expect(data["logprobs_json"], str, f"{where}.logprobs_json"))
        except json.JSONDecodeError as error:
            raise SessionFormatError(f"{where}.logprobs_json: {error}") from None
    return Choice(
        index=_expect(data.get("index", 0), int, f"{where}.index"),
        text=_expect(data.get("text", ""), str, f"{where}.text"),
        tokens=tokens,
        finish_reason=data.get("finish_reason"),
        logprobs=logprobs,
    )


def _exchange_from_dict(data: Any, where: str) -> Exchange:
    _expect(data, dict, where)
    status = data.get("status", "complete")
    if status not in STATUSES:
        raise SessionFormatError(f"{where}.status: must be one of {', '.join(STATUSES)}")
    body = _merge_json(data, "request", where)
    exchange = Exchange(
        request=CompletionRequest.from_body(body),
        status=status,
        error=data.get("error"),
        started_at=_expect(data.get("started_at"), datetime, f"{where}.started_at"),
        finished_at=data.get("finished_at"),
        choices=[
            _choice_from_dict(item, f"{where}.choices[{i}]")
            for i, item in enumerate(_expect(data.get("choices", []), list, f"{where}.choices"))
        ],
        response_id=data.get("response_id"),
        response_model=data.get("response_model"),
        response_created=data.get("response_created"),
        system_fingerprint=data.get("system_fingerprint"),
    )
    if "id" in data:
        exchange.id = _expect(data["id"], str, f"{where}.id")
    if "usage" in data or "usage_json" in data:
        exchange.usage = Usage.from_json(_merge_json(data, "usage", where))
    if "time_info" in data or "time_info_json" in data:
        exchange.time_info = TimeInfo.from_json(_merge_json(data, "time_info", where))
    if "metrics" in data:
        metrics = _expect(data["metrics"], dict, f"{where}.metrics")
        exchange.metrics = ClientMetrics(
            **{k: v for k, v in metrics.items() if k in _METRIC_FIELDS}
        )
    return exchange


def session_from_dict(doc: dict[str, Any]) -> Session:
    version = doc.get("schema_version")
    if version is None:
        raise SessionFormatError("no schema_version: not a workbench session file")
    _expect(version, int, "schema_version")
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(version)
    if version < 1:
        raise SessionFormatError(f"schema_version {version} is not valid")
    session = Session(
        id=_expect(doc.get("id"), str, "id"),
        title=_expect(doc.get("title", ""), str, "title"),
        created=_expect(doc.get("created"), datetime, "created"),
        updated=_expect(doc.get("updated"), datetime, "updated"),
        profile=doc.get("profile"),
        base_url=doc.get("base_url"),
        exchanges=[
            _exchange_from_dict(item, f"exchanges[{i}]")
            for i, item in enumerate(_expect(doc.get("exchanges", []), list, "exchanges"))
        ],
        extra={k: v for k, v in doc.items() if k not in _TOP_LEVEL_KEYS},
    )
    return session


def decode(data: bytes | str) -> Session:
    """Parse a session file's content; raises :class:`SessionFormatError` with the reason."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise SessionFormatError(f"not UTF-8 text: {error}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SessionFormatError(f"TOML syntax error: {error}") from None
    return session_from_dict(doc)
