"""The simulator's tokenizer is lossless, so any prompt counts and echoes exactly."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.sim import ThreadedSim
from workbench.sim.tokenizer import END_OF_TEXT, default_tokenizer, split_pieces

TOKENIZER = default_tokenizer()


@given(st.text())
def test_encode_decode_round_trips_any_text(text: str) -> None:
    assert TOKENIZER.decode(TOKENIZER.encode(text)) == text


@given(st.text(alphabet=st.characters(categories=["Cs", "Cc", "Zs", "Lo", "So"])))
def test_round_trip_includes_control_characters_and_lone_surrogates(text: str) -> None:
    assert TOKENIZER.decode(TOKENIZER.encode(text)) == text


@given(st.text())
def test_pieces_cover_the_text(text: str) -> None:
    assert "".join(split_pieces(text)) == text


@given(st.lists(st.integers(min_value=0, max_value=TOKENIZER.vocab_size - 1)))
def test_any_valid_ids_decode_without_error(ids: list[int]) -> None:
    assert isinstance(TOKENIZER.decode(ids), str)


def test_known_words_are_single_tokens_and_unknown_ones_are_cut_smaller() -> None:
    assert len(TOKENIZER.encode(" Bennet")) == 1
    # A word the book lacks is cut into letter pairs and triples: fewer tokens than letters.
    assert 1 < len(TOKENIZER.encode(" Zyxwvut")) < len(" Zyxwvut")
    assert len(TOKENIZER.encode("é")) == 2  # not in the book: two UTF-8 bytes
    assert TOKENIZER.decode([END_OF_TEXT]) == ""


@pytest.fixture(scope="module")
def sim_client() -> Iterator[httpx.Client]:
    with ThreadedSim(rate=None) as sim, httpx.Client(base_url=sim.base_url) as client:
        yield client


# Echo through the real server: JSON carries any text except lone surrogates.
_SERVER_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200)


@settings(max_examples=30, deadline=None)
@given(prompt=_SERVER_TEXT)
def test_any_prompt_echoes_and_counts_exactly(sim_client: httpx.Client, prompt: str) -> None:
    response = sim_client.post(
        "/v1/completions",
        json={"model": "llama3.1-8b", "prompt": prompt, "max_tokens": 3, "echo": True, "seed": 1},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["choices"][0]["text"].startswith(prompt)
    assert result["usage"]["prompt_tokens"] == len(TOKENIZER.encode(prompt))
