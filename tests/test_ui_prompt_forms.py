"""Reading the prompt pane: text, ``---``-separated batches, JSON token ids; and *continue*."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from workbench.ui.continuation import continued_prompt
from workbench.ui.prompt_forms import (
    BATCH_SEPARATOR,
    FORM_TITLES,
    join_batch,
    parse_prompt,
    prompt_to_text,
    split_batch,
)

# Prompts that can be written in the batch form: no line that is only "---", and no newline
# touching a separator (those newlines belong to the separator line).
batch_prompt = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40).filter(
    lambda p: (
        not p.startswith("\n")
        and not p.endswith("\n")
        and all(line.strip() != BATCH_SEPARATOR for line in p.split("\n"))
        and "\r" not in p
    )
)


@given(st.lists(batch_prompt, min_size=1, max_size=6))
def test_batch_round_trip(prompts: list[str]) -> None:
    assert split_batch(join_batch(prompts)) == prompts


@given(st.lists(batch_prompt.filter(lambda p: p.strip() != ""), min_size=1, max_size=6))
def test_a_written_batch_is_sent_as_those_prompts(prompts: list[str]) -> None:
    text, form = prompt_to_text(prompts)
    assert form == "batch"
    assert parse_prompt(text, "batch").prompt == prompts


def test_batch_separator_is_a_line_of_its_own_and_named_in_the_title() -> None:
    assert parse_prompt("a\n---\nb", "batch").prompt == ["a", "b"]
    assert parse_prompt("a\n  ---  \nb\n", "batch").prompt == ["a", "b\n"]
    assert parse_prompt("a --- b", "batch").prompt == ["a --- b"]
    assert "'---'" in FORM_TITLES["batch"]


def test_empty_batch_block_is_flagged() -> None:
    parsed = parse_prompt("a\n---\n\n---\nc", "batch")
    assert parsed.prompt is None and "2" in (parsed.error or "")


def test_text_form_keeps_the_text_exactly() -> None:
    assert parse_prompt("  a\n---\n", "text").prompt == "  a\n---\n"


@given(
    st.one_of(
        st.lists(st.integers(0, 2**31), min_size=1, max_size=20),
        st.lists(st.lists(st.integers(0, 2**31), min_size=1, max_size=5), min_size=1, max_size=4),
    )
)
def test_token_ids_round_trip(ids: list) -> None:
    text, form = prompt_to_text(ids)
    assert form == "tokens"
    assert parse_prompt(text, "tokens").prompt == ids


def test_bad_token_ids_are_flagged_with_the_reason() -> None:
    cases = {
        "": "JSON array",
        "[1, 2": "not valid JSON",
        '[1, "a"]': "whole numbers",
        "[1.5]": "whole numbers",
        "[[1], 2]": "whole numbers",
        "[true]": "whole numbers",
        "[-1]": "0 or more",
        "[[1], []]": "inner array is empty",
        "{}": "whole numbers",
    }
    for text, reason in cases.items():
        parsed = parse_prompt(text, "tokens")
        assert parsed.prompt is None, text
        assert reason in (parsed.error or ""), (text, parsed.error)


def test_continue_appends_each_output_to_its_prompt() -> None:
    assert continued_prompt("Once", [" upon"]) == "Once upon"
    assert continued_prompt(["a", "b"], ["1", "2"]) == ["a1", "b2"]
    assert continued_prompt([1, 2], ["x"], [[3, 4]]) == [1, 2, 3, 4]
    assert continued_prompt([[1], [2]], ["x", "y"], [[5], [6]]) == [[1, 5], [2, 6]]
    # Token prompts whose output came back as text cannot be continued without a tokenizer.
    assert continued_prompt([1, 2], ["text"], [None]) is None
    assert json.dumps(continued_prompt("", [""])) == '""'


@given(st.text(max_size=30))
def test_stop_field_escapes_round_trip(text: str) -> None:
    from workbench.api.fields import decode_escapes, encode_escapes

    assert decode_escapes(encode_escapes(text)) == text
    assert "\n" not in encode_escapes(text)


def test_stop_field_escapes_name_newline_and_tab() -> None:
    from workbench.api.fields import decode_escapes

    assert decode_escapes("\\n\\n") == "\n\n"
    assert decode_escapes("END\\t") == "END\t"
    assert decode_escapes("a\\\\n") == "a\\n"
    assert decode_escapes("C:\\x") == "C:\\x"  # an unknown escape stays as typed


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_the_editor_file_ends_with_a_newline_that_is_not_part_of_the_prompt(text: str) -> None:
    from workbench.ui.prompt_forms import text_for_editor, text_from_editor

    written = text_for_editor(text)
    assert written == "" or written.endswith("\n")
    # Saved unchanged (vi adds the newline it already has): the prompt is unchanged.
    assert text_from_editor(text, written) == text


def test_a_line_the_editor_appends_stays_on_its_own_line() -> None:
    from workbench.ui.prompt_forms import text_for_editor, text_from_editor

    written = text_for_editor("dark night")
    assert written == "dark night\n"
    assert text_from_editor("dark night", written + "more\n") == "dark night\nmore"
    # A prompt that ended with a newline keeps it; CRLF editors are handled too.
    assert text_from_editor("line\n", "line\n") == "line\n"
    assert text_from_editor("a", "a\r\nb\r\n") == "a\r\nb"
