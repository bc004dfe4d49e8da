"""The SSE decoder: line ends, comments, multi-line data, fields, EOF, and arbitrary splits."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.api.sse import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    return list(SSEDecoder().iter_chunks(chunks))


def datas(*chunks: bytes) -> list[str]:
    return [event.data for event in decode(*chunks)]


def test_plain_lf_events() -> None:
    assert datas(b'data: {"a":1}\n\ndata: [DONE]\n\n') == ['{"a":1}', "[DONE]"]


def test_crlf_and_cr_line_ends() -> None:
    assert datas(b"data: one\r\n\r\ndata: two\r\rdata: three\n\n") == ["one", "two", "three"]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    # If the LF after a chunk-final CR were taken as a second line end, "a" and "b" would be
    # dispatched as two events instead of one event with two data lines.
    assert datas(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n") == ["a\nb"]


def test_comments_are_ignored() -> None:
    assert datas(b": keep-alive\n\n:\ndata: x\n: between\n\n") == ["x"]


def test_multi_line_data_joins_with_newline() -> None:
    assert datas(b"data: first\ndata:second\ndata\ndata:  indented\n\n") == [
        "first\nsecond\n\n indented"
    ]


def test_event_id_retry_fields_are_tolerated() -> None:
    events = decode(b"event: error\nid: 7\nretry: 1500\ndata: {}\n\nretry: soon\ndata: y\n\n")
    assert events[0] == ServerSentEvent(data="{}", event="error", id="7", retry=1500)
    # The last event id persists; a non-numeric retry is ignored.
    assert events[1] == ServerSentEvent(data="y", event=None, id="7", retry=None)


def test_unknown_fields_and_event_without_data_are_not_dispatched() -> None:
    assert decode(b"foo: bar\n\nevent: ping\n\ndata: z\n\n") == [ServerSentEvent(data="z")]


def test_final_event_without_blank_line_is_delivered_at_eof() -> None:
    assert datas(b"data: a\n\ndata: last") == ["a", "last"]
    assert datas(b"data: a\n\ndata: last\n") == ["a", "last"]


def test_utf8_character_split_across_chunks() -> None:
    payload = "data: héllo → 世界 🎉\n\n".encode()
    for cut in range(len(payload) + 1):
        assert datas(payload[:cut], payload[cut:]) == ["héllo → 世界 🎉"]


def test_leading_bom_is_dropped() -> None:
    assert datas("\ufeffdata: a\n\n".encode()) == ["a"]


def test_incremental_feed_returns_events_as_soon_as_complete() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\n") == [ServerSentEvent(data="a")]
    assert decoder.feed(b"data: b\n\nda") == [ServerSentEvent(data="b")]
    assert decoder.close() == []  # "da" is a line with an unknown field name


# -- property tests -----------------------------------------------------------------------------

line_end = st.sampled_from(["\n", "\r\n", "\r"])
# Text without CR/LF (those are line ends): includes multi-byte characters.
safe_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=20
)


@st.composite
def event_streams(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """A stream of events with random line ends, comments and multi-line data, plus its datas."""
    expected: list[str] = []
    parts: list[str] = []

    def add(part: str) -> None:
        # A bare CR followed by an LF would be read as one CRLF line end, not two.
        if parts and parts[-1].endswith("\r") and part.startswith("\n"):
            part = "\r" + part[1:] if part == "\n" else "\r\n" + part[1:]
        parts.append(part)
    for _ in range(draw(st.integers(0, 6))):
        lines = draw(st.lists(safe_text, min_size=1, max_size=3))
        if draw(st.booleans()):
            add(":" + draw(safe_text) + draw(line_end))
        if draw(st.booleans()):
            add("event: " + draw(safe_text) + draw(line_end))
        for line in lines:
            add("data: " + line + draw(line_end))
        add(draw(line_end))
        expected.append("\n".join(lines))
    return "".join(parts).encode("utf-8"), expected


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    chunks, start = [], 0
    for point in points:
        chunks.append(data[start:point])
        start = point
    chunks.append(data[start:])
    return chunks


@settings(max_examples=300, deadline=None)
@given(event_streams(), st.lists(st.integers(0, 400), max_size=12))
def test_any_split_gives_the_same_events(
    stream: tuple[bytes, list[str]], cuts: list[int]
) -> None:
    data, expected = stream
    whole = decode(data)
    assert [e.data for e in whole] == expected
    assert decode(*split_at(data, cuts)) == whole


@settings(max_examples=200, deadline=None)
@given(event_streams())
def test_byte_at_a_time_gives_the_same_events(stream: tuple[bytes, list[str]]) -> None:
    data, expected = stream
    assert [e.data for e in decode(*(data[i : i + 1] for i in range(len(data))))] == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=5), st.text(max_size=10), max_size=3), max_size=5))
def test_json_payloads_round_trip(objects: list[dict[str, str]]) -> None:
    body = "".join(f"data: {json.dumps(o, ensure_ascii=False)}\n\n" for o in objects)
    assert [json.loads(d) for d in datas(body.encode())] == objects
