"""The CLI's output helpers: terminal-safe text, choice layout, the metrics line, exit codes."""

from __future__ import annotations

import argparse
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.api.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InvalidBaseURLError,
    InvalidHeaderError,
    MissingAPIKeyError,
    ProtocolError,
    RateLimitError,
    StreamTruncatedError,
)
from workbench.api.request import FieldError, RequestValidationError
from workbench.api.types import Choice, ClientMetrics, CompletionResult, TimeInfo, Usage
from workbench.cli import EXIT_API, EXIT_INTERRUPTED, EXIT_NETWORK, EXIT_USAGE
from workbench.cli.common import Output, UsageError, exit_code_for, neutralise
from workbench.cli.run import ChoicePrinter, metrics_line, read_prompt, response_json

CONTROL = {chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))} - {"\n", "\t"}


class FakeTerminal(io.TextIOWrapper):
    """A text stream over bytes that says it is a terminal."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8")

    def isatty(self) -> bool:
        return True

    def value(self) -> bytes:
        self.flush()
        return self.buffer.getvalue()  # type: ignore[attr-defined]


class FakePipe(FakeTerminal):
    def isatty(self) -> bool:
        return False


# -- neutralise ----------------------------------------------------------------------------------


def test_escape_sequences_become_visible_text() -> None:
    assert neutralise("a\x1b[31mred\x1b]0;title\x07") == "a\\x1b[31mred\\x1b]0;title\\x07"
    assert neutralise("over\rwrite\x9b2J\x7f") == "over\\x0dwrite\\x9b2J\\x7f"


def test_newline_tab_and_ordinary_unicode_pass_through() -> None:
    text = "line 1\n\tindented — naïve 日本語 🎉\n"
    assert neutralise(text) == text


@given(st.text())
def test_neutralised_text_has_no_control_characters_left(text: str) -> None:
    assert not CONTROL & set(neutralise(text))


@given(st.text())
def test_text_without_control_characters_is_unchanged(text: str) -> None:
    clean = "".join(ch for ch in text if ch not in CONTROL)
    assert neutralise(clean) == clean


# -- Output --------------------------------------------------------------------------------------


def test_output_on_a_pipe_is_byte_exact() -> None:
    pipe = FakePipe()
    out = Output(pipe)
    out.write("é\x1b[2J\r")
    assert pipe.value() == "é\x1b[2J\r".encode()


def test_output_on_a_terminal_is_neutralised() -> None:
    tty = FakeTerminal()
    out = Output(tty)
    out.write("é\x1b[2J\r\n")
    assert tty.value() == "é\\x1b[2J\\x0d\n".encode()


def test_end_line_adds_a_newline_only_when_needed() -> None:
    pipe = FakePipe()
    out = Output(pipe)
    out.end_line()
    out.write("a\n")
    out.end_line()
    out.write("b")
    out.end_line()
    assert pipe.value() == b"a\nb\n"


# -- ChoicePrinter -------------------------------------------------------------------------------


def test_single_choice_is_printed_exactly_on_a_pipe() -> None:
    pipe = FakePipe()
    printer = ChoicePrinter(Output(pipe), expected_choices=1, raw_tokens=False)
    for piece in ("It was", " a dark", " night"):
        printer.text(0, piece)
    printer.finish(0)
    printer.close()
    assert pipe.value() == b"It was a dark night"


def test_single_choice_ends_its_line_on_a_terminal() -> None:
    tty = FakeTerminal()
    printer = ChoicePrinter(Output(tty), expected_choices=1, raw_tokens=False)
    printer.text(0, "text")
    printer.finish(0)
    printer.close()
    assert tty.value() == b"text\n"


def test_interleaved_choices_print_as_labelled_blocks_in_index_order() -> None:
    pipe = FakePipe()
    printer = ChoicePrinter(Output(pipe), expected_choices=3, raw_tokens=False)
    printer.text(1, "b1")
    printer.text(0, "a1")
    printer.text(2, "c1")
    printer.text(1, "b2")
    printer.finish(1)
    printer.text(0, "a2")
    printer.finish(0)
    printer.text(2, "c2")
    printer.finish(2)
    printer.close()
    assert pipe.value().decode() == "[choice 0]\na1a2\n[choice 1]\nb1b2\n[choice 2]\nc1c2\n"


def test_held_back_choices_are_printed_when_the_stream_breaks() -> None:
    pipe = FakePipe()
    printer = ChoicePrinter(Output(pipe), expected_choices=2, raw_tokens=False)
    printer.text(0, "a")
    printer.text(1, "b")
    printer.close()  # no finish: the stream broke
    assert pipe.value().decode() == "[choice 0]\na\n[choice 1]\nb\n"


def test_raw_tokens_are_printed_as_space_separated_ids() -> None:
    pipe = FakePipe()
    printer = ChoicePrinter(Output(pipe), expected_choices=1, raw_tokens=True)
    printer.tokens(0, (1, 2))
    printer.tokens(0, (3,))
    printer.finish(0)
    printer.close()
    assert pipe.value() == b"1 2 3\n"


# -- metrics line and JSON -----------------------------------------------------------------------


def _result() -> CompletionResult:
    return CompletionResult(
        id="chatcmpl-1",
        model="llama3.1-8b",
        created=1731597024,
        system_fingerprint="fp_1",
        choices=[Choice(index=0, text="hi", finish_reason="length")],
        usage=Usage(
            10, 100, 110, raw={"prompt_tokens": 10, "completion_tokens": 100, "total_tokens": 110}
        ),
        time_info=TimeInfo(completion_time=0.046, raw={"completion_time": 0.046}),
        metrics=ClientMetrics(
            time_to_first_token_s=0.012,
            wall_time_s=0.07,
            completion_tokens=100,
            client_tokens_per_s=1875.4,
            server_tokens_per_s=2173.9,
        ),
    )


def test_metrics_line_names_speed_usage_and_finish_reason() -> None:
    line = metrics_line(_result(), streamed=True, attempts=2)
    assert line == (
        "ttft 12 ms, 1,875 tok/s client, 2,174 tok/s server, "
        "usage 10 prompt + 100 completion = 110, finish length, after 1 retry"
    )
    assert metrics_line(_result(), streamed=False).startswith("time 70 ms, ")


def test_metrics_line_survives_missing_figures() -> None:
    line = metrics_line(CompletionResult(), streamed=True)
    assert line == "ttft ?, ? tok/s client, ? tok/s server, finish none"


def test_response_json_has_the_api_shape() -> None:
    result = _result()
    result.raw = {
        "id": "chatcmpl-1",
        "object": "text_completion",
        "created": 1731597024,
        "extra": 1,
    }
    body = response_json(result)
    assert list(body)[:2] == ["id", "choices"]
    assert set(body) == {
        "id", "choices", "created", "model", "system_fingerprint", "object", "usage",
        "time_info", "extra",
    }  # fmt: skip
    assert body["choices"] == [
        {"finish_reason": "length", "index": 0, "logprobs": None, "text": "hi"}
    ]
    assert body["usage"]["total_tokens"] == 110 and body["extra"] == 1


# -- prompt sources and exit codes ---------------------------------------------------------------


def _args(prompt: str | None = None, prompt_json: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(prompt=prompt, prompt_json=prompt_json)


def test_prompt_sources() -> None:
    assert read_prompt(_args("hi"), FakeTerminal()) == "hi"
    stdin = FakePipe()
    stdin.buffer.write(b"from stdin\n")  # type: ignore[attr-defined]
    stdin.buffer.seek(0)  # type: ignore[attr-defined]
    assert read_prompt(_args(), stdin) == "from stdin\n"
    assert read_prompt(_args(prompt_json='["a", "b"]'), FakePipe()) == ["a", "b"]
    with pytest.raises(UsageError, match="PROMPT"):
        read_prompt(_args(), FakeTerminal())
    with pytest.raises(UsageError, match="not both"):
        read_prompt(_args("x", "[1]"), FakeTerminal())
    with pytest.raises(UsageError, match="not valid JSON"):
        read_prompt(_args(prompt_json="[1,"), FakeTerminal())


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("x"), EXIT_USAGE),
        (MissingAPIKeyError("x"), EXIT_USAGE),
        (InvalidHeaderError("x"), EXIT_USAGE),
        (InvalidBaseURLError("x"), EXIT_USAGE),
        (AuthenticationError("x", status_code=401), EXIT_API),
        (RateLimitError("x", status_code=429), EXIT_API),
        (ProtocolError("x"), EXIT_API),
        (StreamTruncatedError("x"), EXIT_API),
        (APIConnectionError("x"), EXIT_NETWORK),
        (APITimeoutError("x"), EXIT_NETWORK),
        (KeyboardInterrupt(), EXIT_INTERRUPTED),
        (RequestValidationError([FieldError("top_p", "must be between 0 and 1")]), EXIT_USAGE),
        (BrokenPipeError(), 141),
    ],
)
def test_exit_codes(error: BaseException, code: int) -> None:
    assert exit_code_for(error) == code
