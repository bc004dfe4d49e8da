"""Prompt history (alt+up / alt+down) without a screen: order, duplicates, the draft, bounds."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from workbench.ui.prompt_history import MAX_PROMPT_CHARS, PromptHistory


def walk_back(history: PromptHistory, draft: object = "draft") -> list[object]:
    seen = []
    while (entry := history.previous(draft)) is not None:
        seen.append(entry)
    return seen


def test_newest_first_then_the_draft_again() -> None:
    history = PromptHistory()
    for prompt in ("one", ["a", "b"], [1, 2, 3]):
        history.add(prompt)
    assert walk_back(history) == [[1, 2, 3], ["a", "b"], "one"]
    assert history.next() == (True, ["a", "b"])
    assert history.next() == (True, [1, 2, 3])
    assert history.next() == (True, "draft")
    assert history.next() == (False, None)  # no longer browsing


def test_a_repeated_prompt_moves_to_the_newest_place() -> None:
    history = PromptHistory()
    for prompt in ("one", "two", "one"):
        history.add(prompt)
    assert walk_back(history) == ["one", "two"]


def test_blank_and_huge_prompts_are_not_kept() -> None:
    history = PromptHistory()
    history.add("   ")
    history.add("x" * (MAX_PROMPT_CHARS + 1))
    history.add([])
    assert len(history) == 0 and history.previous("d") is None


def test_older_prompts_arrive_while_browsing_without_moving_the_entry_shown() -> None:
    history = PromptHistory()
    history.add("today")
    assert history.previous("draft") == "today"
    assert history.at_oldest
    assert history.add_older(["monday", "today", "tuesday"]) == 2
    assert history.previous("ignored") == "tuesday"
    assert history.previous("ignored") == "monday"
    assert history.previous("ignored") is None


@given(st.lists(st.text(max_size=5), max_size=40), st.integers(1, 10))
def test_bounded_and_without_duplicates(prompts: list[str], limit: int) -> None:
    history = PromptHistory(limit=limit)
    for prompt in prompts:
        history.add(prompt)
    history.add_older(prompts)
    assert len(history) <= limit
    assert len(set(history.entries)) == len(history.entries)
    kept = [p for p in prompts if p.strip()]
    if kept:
        assert history.entries[-1] == kept[-1]  # the newest is always there


def test_recent_session_prompts_are_read_oldest_first_skipping_what_cannot_be_read(
    tmp_path: Path,
) -> None:
    from ui_sessions_fixtures import fill_store

    from workbench.ui.prompt_history import recent_session_prompts

    store = fill_store(tmp_path)  # five sessions, newest first: haiku, fizzbuzz, summary, …
    (tmp_path / "broken.toml").write_text("this is not [toml", "utf-8")
    haiku = next(summary for summary in store.list() if summary.title == "Haiku about autumn")
    prompts = recent_session_prompts(store, exclude=haiku.id, sessions=2)
    # The broken file (the newest) is skipped, the current session too; of the two most recent
    # others, the older session's prompts come first.
    assert prompts == ["summarise: budget approved"] * 3 + ["fizzbuzz in rust please"] * 2
    assert recent_session_prompts(store, sessions=0) == []
