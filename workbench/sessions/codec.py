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

Long text that can be a TOML *literal* multiline string (``'''…'''``: no control characters but
tab and newline, no ``'''``) is written as one: it reads better (no escapes) and ``tomllib`` reads
it with one ``str.index`` instead of a Python loop per character (3-4x faster to open).

``encode`` parses its own output before returning and refuses to produce text that would not
load back as the same session, so a writer bug can never corrupt a file quietly.
``encode_appended`` writes only new exchanges, for the store's append-only autosave; it is
framed by two comment lines so that a save cut off by a crash is recognised (see ``decode``).

``decode`` trusts nothing: every key is type-checked where it is read, sizes and nesting are
bounded, and anything wrong is a :class:`SessionFormatError` naming the key — never another
exception.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import tomllib
from dataclasses import fields
from datetime import datetime, timezone
from typing import Any

import tomli_w

from workbench.api.fields import FIELD_BY_NAME, FieldValueError, check_overrides
from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, ClientMetrics, TimeInfo, Usage
from workbench.sessions.model import MAX_LANES, SCHEMA_VERSION, STATUSES, Exchange, Session

_SURROGATES = re.compile("[\ud800-\udfff]")
#: The largest session file that is read (a bigger one is listed as unreadable, never loaded
#: whole: decoding costs about 4x the file size in memory). 1,000 exchanges of 2,000 tokens
#: make about 10 MB.
MAX_SESSION_BYTES = 64 * 1024 * 1024
#: Deeper nesting than this is refused (real files nest about 8 levels: logprobs in a choice).
MAX_NESTING = 48
#: Choice indexes above this are refused (a batch of prompts times n never gets near it).
MAX_CHOICE_INDEX = 1_000_000
#: Framing of an appended chunk (comments: a TOML reader skips them). A begin line with no
#: end line after it marks a save that a crash (or power loss) cut off.
APPEND_BEGIN = "# workbench: appended exchanges begin\n"
APPEND_END = "# workbench: appended exchanges end\n"
_FRAME_TEXT = "# workbench: appended exchanges"
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
        if "\n" in value and (
            "\r\n" in value or len(value) <= MULTILINE_MIN_LENGTH or _FRAME_TEXT in value
        ):
            # One line: a text holding our framing comment must not put it at a line start.
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
    out: dict[str, Any] = {"id": _prepare(exchange.id), "status": exchange.status}
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
    if exchange.http_status is not None:
        out["http_status"] = exchange.http_status
    if exchange.server_message is not None:
        out["server_message"] = _prepare(exchange.server_message)
    if exchange.group is not None:
        out["group"] = _prepare(exchange.group)
    if exchange.lane is not None:
        out["lane"] = exchange.lane
    if exchange.label is not None:
        out["label"] = _prepare(exchange.label)
    if exchange.variant:
        _table(exchange.variant, out, "variant")
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
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "id": _prepare(session.id)}
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


_LITERAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]|'''")


def _literal_ok(text: str) -> bool:
    """Can ``text`` be written as a multiline literal string and read back identical?"""
    return (
        len(text) > MULTILINE_MIN_LENGTH
        and "\n" in text
        and not text.endswith("'")
        and not isinstance(text, _OneLine)
        and _LITERAL_UNSAFE.search(text) is None
    )


class _Literals:
    """Swaps long plain strings for placeholders tomli_w writes as-is, then puts them back as
    literal strings. The placeholder holds a random nonce, so no text can imitate it (and the
    round-trip check after writing would catch it if one did)."""

    def __init__(self) -> None:
        self.nonce = secrets.token_hex(8)
        self.texts: list[str] = []
        # Padded past tomli_w's line length, so that a table holding one is never turned
        # into an inline table (the placeholder must not change the layout).
        self.pad = "\ue002" * 100
        self.pattern = re.compile(f'"\ue000{self.nonce}(\\d+){self.pad}\ue001"')

    def swap(self, value: Any) -> Any:
        if isinstance(value, str):
            if _literal_ok(value):
                self.texts.append(value)
                return f"\ue000{self.nonce}{len(self.texts) - 1}{self.pad}\ue001"
            return value
        if isinstance(value, dict):
            return {key: self.swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.swap(item) for item in value]
        return value

    def restore(self, text: str) -> str:
        if not self.texts:
            return text
        return self.pattern.sub(lambda m: "'''\n" + self.texts[int(m.group(1))] + "'''", text)


def _dump(doc: dict[str, Any]) -> str:
    """TOML text for ``doc``, verified to load back as the same document."""
    literals = _Literals()
    text = literals.restore(tomli_w.dumps(literals.swap(doc), multiline_strings=True))
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
    return text


def encode(session: Session) -> bytes:
    """UTF-8 TOML for the whole session; verified to load back to the same document."""
    return _dump(session_to_dict(session)).encode("utf-8")


def encode_appended(exchanges: list[Exchange], saved_at: datetime) -> bytes:
    """The text to append to a session file (written by :func:`encode`, or grown by earlier
    appends) that adds ``exchanges``: their ``[[exchanges]]`` tables, each with ``saved_at``
    (a later ``updated`` for the session, as the top-level key cannot change in place),
    framed by the begin/end comment lines. Costs O(size of the new exchanges)."""
    tables = []
    for exchange in exchanges:
        table = _exchange_to_dict(exchange)
        table["saved_at"] = saved_at
        tables.append(table)
    body = _dump({"exchanges": tables})
    if not body.startswith("[[exchanges]]\n"):  # an inline array cannot be appended to
        raise SessionFormatError("exchanges cannot be appended as tables")
    return (APPEND_BEGIN + body + APPEND_END).encode("utf-8")


# -- decoding ------------------------------------------------------------------------------


def _kind_name(value: Any) -> str:
    return {
        bool: "a boolean", int: "an integer", float: "a number", str: "a string",
        list: "an array", dict: "a table", datetime: "a date-time",
    }.get(type(value), type(value).__name__)


def _expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise SessionFormatError(f"{where}: unexpected {type(value).__name__}")
    return value


def _optional(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(key)
    return None if value is None else _expect(value, kind, f"{where}.{key}")


def _int_in(value: Any, low: int, high: int, where: str) -> int:
    _expect(value, int, where)
    if not low <= value <= high:
        raise SessionFormatError(f"{where}: {value} is out of range ({low} to {high})")
    return value


def _moment(value: Any, where: str) -> datetime:
    """A TOML date-time (with or without offset) in a sane range (other code converts them to
    timestamps and local time, which fails at the edges of ``datetime``)."""
    if value is None:
        raise SessionFormatError(f"{where}: missing")
    if not isinstance(value, datetime):
        raise SessionFormatError(f"{where}: expected a date-time, found {_kind_name(value)}")
    if not 1900 <= value.year <= 9998:
        raise SessionFormatError(f"{where}: year {value.year} is out of range (1900 to 9998)")
    return value


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _json_text(text: Any, where: str) -> Any:
    _expect(text, str, where)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise SessionFormatError(f"{where}: not valid JSON ({str(error)[:80]})") from None
    _check_depth(value, where, MAX_NESTING)
    return value


def _merge_json(data: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    table = dict(_expect(data.get(name, {}), dict, f"{where}.{name}"))
    for key, text in _expect(data.get(f"{name}_json", {}), dict, f"{where}.{name}_json").items():
        table[key] = _json_text(text, f"{where}.{name}_json.{key}")
    return table


def _check_depth(value: Any, where: str, limit: int) -> None:
    """Refuse nesting deeper than ``limit`` (iteratively: the check itself cannot recurse)."""
    containers = (dict, list)
    stack = [(value, 0)] if isinstance(value, containers) else []
    while stack:
        item, depth = stack.pop()
        if depth >= limit:
            raise SessionFormatError(f"{where}: nested more than {limit} levels deep")
        children = item.values() if isinstance(item, dict) else item
        # Only containers go on the stack: a long token list costs one pass, no tuples.
        stack += [(child, depth + 1) for child in children if isinstance(child, containers)]


def _check_prompt(prompt: Any, where: str) -> None:
    if isinstance(prompt, str):
        return
    if isinstance(prompt, list):
        ints = [isinstance(t, int) and not isinstance(t, bool) for t in prompt]
        if all(isinstance(item, str) for item in prompt) or all(ints):
            return
        if all(
            isinstance(item, list)
            and all(isinstance(t, int) and not isinstance(t, bool) for t in item)
            for item in prompt
        ):
            return
    raise SessionFormatError(
        f"{where}: expected a string, an array of strings, of token ids or of token-id "
        f"arrays, found {_kind_name(prompt)}"
    )


def _request_from_body(body: dict[str, Any], where: str) -> CompletionRequest:
    """Each field the workbench knows is type-checked (ranges are left to validation before a
    replay sends it); other fields are kept as they are, so a replay sends the same body."""
    for key, value in body.items():
        if key == "prompt":
            _check_prompt(value, f"{where}.prompt")
            continue
        spec = FIELD_BY_NAME.get(key)
        if spec is None:
            continue
        allowed = spec.python_types()
        ok = isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed)
        if ok and spec.kind == "list" and isinstance(value, list):
            ok = all(isinstance(item, str) for item in value)
        if not ok:
            raise SessionFormatError(
                f"{where}.{key}: unexpected {_kind_name(value)} for a {spec.kind} field"
            )
    return CompletionRequest.from_body(body)


def _choice_from_dict(data: Any, where: str) -> Choice:
    _expect(data, dict, where)
    tokens = _optional(data, "tokens", list, where)
    if tokens is not None:
        for position, token in enumerate(tokens):
            _expect(token, int, f"{where}.tokens[{position}]")
    logprobs = _optional(data, "logprobs", dict, where)
    if "logprobs_json" in data:
        logprobs = _json_text(data["logprobs_json"], f"{where}.logprobs_json")
        if logprobs is not None:
            _expect(logprobs, dict, f"{where}.logprobs_json")
    return Choice(
        index=_int_in(data.get("index", 0), 0, MAX_CHOICE_INDEX, f"{where}.index"),
        text=_expect(data.get("text", ""), str, f"{where}.text"),
        tokens=tokens,
        finish_reason=_optional(data, "finish_reason", str, where),
        logprobs=logprobs,
    )


_METRIC_INT_FIELDS = {"completion_tokens"}


def _metrics_from_dict(data: Any, where: str) -> ClientMetrics:
    _expect(data, dict, where)
    values = {}
    for name in _METRIC_FIELDS:  # unknown keys: from a newer version, ignored
        value = data.get(name)
        if value is not None:
            kind = int if name in _METRIC_INT_FIELDS else (int, float)
            values[name] = _expect(value, kind, f"{where}.{name}")
    return ClientMetrics(**values)


def _exchange_from_dict(data: Any, where: str) -> tuple[Exchange, datetime | None]:
    """The exchange, and its ``saved_at`` (present on appended exchanges)."""
    _expect(data, dict, where)
    status = _expect(data.get("status", "complete"), str, f"{where}.status")
    if status not in STATUSES:
        raise SessionFormatError(f"{where}.status: must be one of {', '.join(STATUSES)}")
    body = _merge_json(data, "request", where)
    choices = [
        _choice_from_dict(item, f"{where}.choices[{i}]")
        for i, item in enumerate(_expect(data.get("choices", []), list, f"{where}.choices"))
    ]
    if len({choice.index for choice in choices}) != len(choices):
        raise SessionFormatError(f"{where}.choices: two choices have the same index")
    finished_at = data.get("finished_at")
    exchange = Exchange(
        request=_request_from_body(body, f"{where}.request"),
        status=status,  # type: ignore[arg-type]
        error=_optional(data, "error", str, where),
        started_at=_moment(data.get("started_at"), f"{where}.started_at"),
        finished_at=None if finished_at is None else _moment(finished_at, f"{where}.finished_at"),
        choices=choices,
        response_id=_optional(data, "response_id", str, where),
        response_model=_optional(data, "response_model", str, where),
        response_created=_optional(data, "response_created", int, where),
        system_fingerprint=_optional(data, "system_fingerprint", str, where),
        server_message=_optional(data, "server_message", str, where),
        group=_optional(data, "group", str, where),
        label=_optional(data, "label", str, where),
    )
    if "id" in data:
        exchange.id = _expect(data["id"], str, f"{where}.id")
    if data.get("http_status") is not None:
        exchange.http_status = _int_in(data["http_status"], 100, 999, f"{where}.http_status")
    if data.get("lane") is not None:
        exchange.lane = _int_in(data["lane"], 0, MAX_LANES - 1, f"{where}.lane")
        if exchange.group is None:
            raise SessionFormatError(f"{where}.lane: a lane needs a group")
    if "variant" in data or "variant_json" in data:
        try:
            exchange.variant = check_overrides(_merge_json(data, "variant", where))
        except FieldValueError as error:
            raise SessionFormatError(f"{where}.variant: {error}") from None
    if "usage" in data or "usage_json" in data:
        exchange.usage = Usage.from_json(_merge_json(data, "usage", where))
    if "time_info" in data or "time_info_json" in data:
        try:
            exchange.time_info = TimeInfo.from_json(_merge_json(data, "time_info", where))
        except OverflowError:  # an integer too big to be a float of seconds
            raise SessionFormatError(f"{where}.time_info: a number is out of range") from None
    if "metrics" in data:
        exchange.metrics = _metrics_from_dict(data["metrics"], f"{where}.metrics")
    saved_at = data.get("saved_at")
    return exchange, None if saved_at is None else _moment(saved_at, f"{where}.saved_at")


def schema_version_of(doc: dict[str, Any]) -> int:
    version = doc.get("schema_version")
    if version is None:
        raise SessionFormatError("no schema_version: not a workbench session file")
    _expect(version, int, "schema_version")
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(version)
    if version < 1:
        raise SessionFormatError(f"schema_version {version} is not valid")
    return version


def session_from_dict(doc: dict[str, Any]) -> Session:
    """Version 1 and 2 documents alike (1 is 2 without groups and structured errors)."""
    schema_version_of(doc)
    _check_depth(doc, "the document", MAX_NESTING)
    session_id = _expect(doc.get("id"), str, "id")
    title = _expect(doc.get("title", ""), str, "title")
    created = _moment(doc.get("created"), "created")
    updated = _moment(doc.get("updated"), "updated")
    exchanges: list[Exchange] = []
    for i, item in enumerate(_expect(doc.get("exchanges", []), list, "exchanges")):
        exchange, saved_at = _exchange_from_dict(item, f"exchanges[{i}]")
        exchanges.append(exchange)
        if saved_at is not None and _as_utc(saved_at) > _as_utc(updated):
            updated = saved_at
    return Session(
        id=session_id,
        title=title,
        created=created,
        updated=updated,
        profile=_optional(doc, "profile", str, "session"),
        base_url=_optional(doc, "base_url", str, "session"),
        exchanges=exchanges,
        extra={k: v for k, v in doc.items() if k not in _TOP_LEVEL_KEYS},
    )


def split_torn_append(data: bytes) -> tuple[bytes, bool]:
    """The file without a trailing append that a crash cut off, and whether there was one.

    Works on bytes, before UTF-8 decoding: a cut may fall inside a multi-byte character. A cut
    inside the begin line itself counts too (the file then ends with a piece of it)."""
    begin_line, end_line = APPEND_BEGIN.encode(), APPEND_END.encode()
    begin = data.rfind(b"\n" + begin_line)
    if begin != -1:
        begin += 1
    elif data.startswith(begin_line):  # the data is the appended part alone
        begin = 0
    if begin != -1 and data.find(end_line, begin) == -1:
        return data[:begin], True  # a chunk begun and not finished
    last_line = data.rfind(b"\n") + 1
    if last_line < len(data) and begin_line.startswith(data[last_line:]):
        return data[:last_line], True  # the cut fell inside the begin line itself
    return data, False


def _parse_with_prefix(
    data: bytes, prefix: tuple[dict[str, Any], int]
) -> tuple[dict[str, Any], bool] | None:
    """The document from a cached parse of ``data[:size]`` plus a parse of the chunks
    appended after it; None when what follows is not appended exchanges only."""
    cached, size = prefix
    rest = data[size:]
    if rest and not rest.startswith(APPEND_BEGIN.encode()):
        return None
    added, torn = parse_document(rest) if rest else ({}, False)
    if set(added) - {"exchanges"} or not isinstance(cached.get("exchanges", []), list):
        return None
    doc = dict(cached)
    doc["exchanges"] = list(cached.get("exchanges", [])) + list(added.get("exchanges", []))
    return doc, torn


def parse_document(data: bytes | str) -> tuple[dict[str, Any], bool]:
    """The TOML document of a session file, and whether a torn append was left out."""
    if len(data) > MAX_SESSION_BYTES:
        raise SessionFormatError(
            f"the file is {len(data) / 2**20:.0f} MB; session files are read up to "
            f"{MAX_SESSION_BYTES // 2**20} MB"
        )
    data, torn = split_torn_append(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SessionFormatError(f"not UTF-8 text: {error}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SessionFormatError(f"TOML syntax error: {error}") from None
    except RecursionError:
        raise SessionFormatError("TOML nested too deeply") from None
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        raise SessionFormatError(f"TOML value cannot be read: {str(error)[:80]}") from None
    return doc, torn


TORN_NOTE = (
    "the last save was cut off (the app or the machine stopped while writing); the "
    "exchange it was adding is not in the file"
)


def decode(data: bytes | str) -> Session:
    """Parse a session file's content; raises :class:`SessionFormatError` with the reason,
    and nothing else whatever the content."""
    return decode_file(data)[0]


def decode_file(
    data: bytes | str, prefix: tuple[dict[str, Any], int] | None = None
) -> tuple[Session, int]:
    """:func:`decode`, and the file's ``schema_version`` (the store rewrites an older one
    before appending to it). ``prefix``: a cached document of the file's first bytes (see
    ``doccache``); only what was appended after them is parsed."""
    return decode_document(data, prefix)[:2]


def decode_document(
    data: bytes | str, prefix: tuple[dict[str, Any], int] | None = None
) -> tuple[Session, int, dict[str, Any]]:
    """:func:`decode_file`, and the TOML document it was built from (for the cache)."""
    parsed = None
    if prefix is not None and isinstance(data, bytes) and len(data) <= MAX_SESSION_BYTES:
        parsed = _parse_with_prefix(data, prefix)
    doc, torn = parsed if parsed is not None else parse_document(data)
    try:
        version = schema_version_of(doc)
        session = session_from_dict(doc)
    except SessionFormatError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError, OverflowError) as error:
        # Every key is checked above; this is the net under the checks, never the check.
        raise SessionFormatError(
            f"unexpected content ({type(error).__name__}: {str(error)[:80]})"
        ) from None
    if torn:
        session.recovered = TORN_NOTE
    return session, version, doc
