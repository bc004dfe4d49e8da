"""Sessions survive a save/load round trip exactly, whatever text they hold."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import HealthCheck, given, settings

from sessions_strategies import TRICKY, sessions
from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, CompletionResult
from workbench.sessions.codec import NewerSchemaError, SessionFormatError, decode, encode
from workbench.sessions.model import Exchange, Session


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions)
def test_any_session_round_trips_exactly(session: Session) -> None:
    assert decode(encode(session)) == session


@pytest.mark.parametrize(
    "text",
    TRICKY + ["a\r\nb\nc", "x" * 200_000 + "\\", 'ends with "'],
    ids=lambda text: repr(text)[:16],
)
def test_tricky_text_round_trips_in_every_text_field(text: str) -> None:
    session = Session.new(title=text, profile=text)
    request = CompletionRequest(model=text, prompt=[text, text], stop=[text], user=text)
    result = CompletionResult(choices=[Choice(index=0, text=text, finish_reason=text)])
    session.exchanges.append(Exchange.from_outcome(request, result, status="error", error=text))
    assert decode(encode(session)) == session


def test_long_text_with_newlines_is_written_as_a_multiline_string() -> None:
    session = Session.new(title="poem")
    prompt = "The first line of a longer prompt,\nand its second line.\n"
    quoted = 'A line with "quotes" and a \\ backslash,\nthen an ESC \x1b that needs escapes.'
    request = CompletionRequest(model="m", prompt=[prompt, quoted], stop=["\n\n"])
    session.exchanges.append(Exchange.from_outcome(request, None, status="cancelled"))
    text = encode(session).decode()
    # Plain text: a literal string, exactly as typed (nothing escaped, fast to read back).
    assert f"'''\n{prompt}'''" in text
    # Text with a control character: a basic multiline string with escapes.
    assert '"""\nA line with \\"quotes\\" and a \\\\ backslash,\nthen an ESC \\u001b' in text
    assert 'stop = [\n    "\\n\\n",\n]' in text  # short strings stay on one line
    assert decode(text) == session


def test_absent_values_are_omitted_not_written_as_null() -> None:
    session = Session.new()
    session.exchanges.append(
        Exchange.from_outcome(CompletionRequest(model="m", prompt="p"), None, status="error")
    )
    doc = tomllib.loads(encode(session).decode())
    assert "profile" not in doc and "base_url" not in doc
    assert doc["exchanges"][0]["request"] == {"model": "m", "prompt": "p"}
    assert "usage" not in doc["exchanges"][0]


def test_newer_schema_is_refused_with_a_reason() -> None:
    text = encode(Session.new(title="t")).decode().replace("schema_version = 2", "schema_version = 7")
    with pytest.raises(NewerSchemaError, match="schema_version 7 is newer"):
        decode(text)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("title = [unclosed", "TOML syntax error"),
        ('title = "no version"', "no schema_version"),
        ('schema_version = 1\nid = "x"\ntitle = 3', "title: unexpected int"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_unreadable_content_names_the_problem(text: str | bytes, reason: str) -> None:
    with pytest.raises(SessionFormatError, match=reason):
        decode(text)


def test_unknown_top_level_keys_are_kept_when_saved_again() -> None:
    text = encode(Session.new(title="t")).decode() + "\n"
    text = text.replace("schema_version = 2\n", 'schema_version = 2\nlabel = "from a newer minor version"\n')
    session = decode(text)
    assert decode(encode(session)).extra == {"label": "from a newer minor version"}


@pytest.mark.parametrize(
    "text",
    [
        "a long enough first line of text\nthat ends with a quote'",
        "a long enough first line of text\nthat ends with two quotes''",
        "a long enough first line of text\nwith ''' three quotes inside",
        "\nstarts with a newline and is long enough to be literal\n",
        "\n\nstarts with two newlines and is long enough to be literal",
        "tabs\tare fine in a literal string, and so is\nunicode \u2028 and é",
        "a DEL \x7f needs escapes, so this is not a literal string\n.",
    ],
)
def test_literal_string_edges_round_trip(text: str) -> None:
    session = Session.new(title="edges")
    result = CompletionResult(choices=[Choice(index=0, text=text)])
    session.exchanges.append(Exchange.from_outcome(CompletionRequest(model="m", prompt=text), result))
    assert decode(encode(session)) == session
