"""Streamed logprobs chunks folded into one choice's logprobs (``extend_logprobs``).

The client's result and the transcript's view each fold the same chunks; both must end with
the concatenation of every chunk, and neither may share a list with a chunk or with the other.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workbench.api.logprobs import extend_logprobs

tokens = st.text(max_size=4)
chunks = st.lists(
    st.integers(min_value=0, max_value=4).flatmap(
        lambda size: st.fixed_dictionaries(
            {
                "tokens": st.lists(tokens, min_size=size, max_size=size),
                "token_logprobs": st.lists(st.floats(max_value=0, allow_nan=False), min_size=size, max_size=size),
                "top_logprobs": st.lists(st.dictionaries(tokens, st.floats(max_value=0, allow_nan=False), max_size=2), min_size=size, max_size=size),
            }
        )
    ),
    min_size=1,
    max_size=12,
)


@given(chunks)
def test_folding_chunks_gives_their_concatenation_and_leaves_them_untouched(pieces: list[dict]) -> None:
    originals = [{key: list(value) for key, value in piece.items()} for piece in pieces]
    client_side = view_side = None
    for piece in pieces:
        client_side = extend_logprobs(client_side, piece)
        view_side = extend_logprobs(view_side, piece)
    for key in ("tokens", "token_logprobs", "top_logprobs"):
        expected = [item for piece in originals for item in piece[key]]
        assert client_side[key] == expected
        assert view_side[key] == expected
        assert client_side[key] is not view_side[key]
    assert pieces == originals  # the chunks themselves are not extended


def test_a_long_stream_extends_one_list_rather_than_copying_it_per_chunk() -> None:
    merged = extend_logprobs(None, {"tokens": ["a"], "token_logprobs": [-0.1]})
    tokens_list = merged["tokens"]
    for _ in range(1_000):
        merged = extend_logprobs(merged, {"tokens": ["b"], "token_logprobs": [-0.2]})
    assert merged["tokens"] is tokens_list  # one list, grown in place: linear in the stream
    assert len(tokens_list) == 1_001


def test_a_scalar_field_takes_the_latest_value_and_a_shape_change_is_not_mixed() -> None:
    merged = extend_logprobs(None, {"tokens": ["a"], "note": 1})
    merged = extend_logprobs(merged, {"tokens": "not a list", "note": 2})
    assert merged == {"tokens": "not a list", "note": 2}
