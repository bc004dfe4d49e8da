"""Prompt history: alt+up / alt+down in the prompt pane recall earlier prompts, like a shell.

No Textual here (tested directly). Entries are whole prompts (a text, a batch or token ids), so
a recalled batch comes back as a batch. The newest entries are the prompts sent in this run and
those of the session that was opened; older ones, from recent session files, are added later by
:meth:`PromptHistory.add_older` (the pane reads them off the UI thread on the first step past the
oldest entry it has).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from workbench.api.request import Prompt
from workbench.sessions.store import SessionStore

# Enough for a working day; a bound so a long-running app's history stays small.
MAX_ENTRIES = 500
# A prompt this long is data, not something to recall with a key (and would be slow to draw).
MAX_PROMPT_CHARS = 64_000
# alt+up reaches back this many recent session files, skipping any larger than this (reading
# them is the only cost, and it runs once, in a thread).
RECENT_SESSIONS = 10
MAX_SESSION_FILE_BYTES = 4 * 1024 * 1024


def _key(prompt: Prompt) -> str:
    return prompt if isinstance(prompt, str) else json.dumps(prompt)


def _recallable(prompt: Any) -> bool:
    if isinstance(prompt, str):
        return bool(prompt.strip()) and len(prompt) <= MAX_PROMPT_CHARS
    return bool(prompt) and len(_key(prompt)) <= MAX_PROMPT_CHARS


class PromptHistory:
    """Prompts oldest first, without duplicates, and a browsing position.

    While browsing, ``position`` indexes the entry shown; ``None`` means the user's own draft
    (what was in the pane before the first step back), which a step past the newest restores.
    """

    def __init__(self, limit: int = MAX_ENTRIES) -> None:
        self.limit = limit
        self.entries: list[Prompt] = []
        self.position: int | None = None
        self.draft: Any = None

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, prompt: Prompt) -> None:
        """A prompt just sent (or of the session just opened): the newest entry. Browsing ends."""
        self.position = None
        if not _recallable(prompt):
            return
        key = _key(prompt)
        self.entries = [entry for entry in self.entries if _key(entry) != key]
        self.entries.append(prompt)
        del self.entries[: -self.limit]

    def add_older(self, prompts: Iterable[Prompt]) -> int:
        """Prompts older than every entry (from earlier sessions, oldest first); those already
        here are skipped. Returns how many were added; a browsing position stays on its entry."""
        known = {_key(entry) for entry in self.entries}
        older: list[Prompt] = []
        for prompt in prompts:
            if not _recallable(prompt):
                continue
            key = _key(prompt)
            if key not in known:
                known.add(key)
                older.append(prompt)
        room = max(0, self.limit - len(self.entries))
        older = older[len(older) - room :] if room else []
        self.entries[:0] = older
        if self.position is not None:
            self.position += len(older)
        return len(older)

    @property
    def at_oldest(self) -> bool:
        """True when a step back has nothing older to show."""
        return not self.entries or self.position == 0

    def previous(self, draft: Any) -> Prompt | None:
        """One step back: the entry to show, or None at the oldest. ``draft`` is what the pane
        holds now; it is kept when browsing starts, for :meth:`next` to give back."""
        if not self.entries:
            return None
        if self.position is None:
            self.draft = draft
            self.position = len(self.entries) - 1
        elif self.position > 0:
            self.position -= 1
        else:
            return None
        return self.entries[self.position]

    def next(self) -> tuple[bool, Any]:
        """One step forward: (True, entry) or, past the newest, (True, the draft); (False, None)
        when not browsing."""
        if self.position is None:
            return False, None
        self.position += 1
        if self.position >= len(self.entries):
            self.position = None
            draft, self.draft = self.draft, None
            return True, draft
        return True, self.entries[self.position]


def recent_session_prompts(
    store: SessionStore, *, exclude: str | None = None, sessions: int = RECENT_SESSIONS
) -> list[Prompt]:
    """The prompts of the ``sessions`` most recent readable session files (not ``exclude``),
    oldest first. Blocking file I/O: call it off the UI thread. A file that vanished, grew past
    :data:`MAX_SESSION_FILE_BYTES` or does not decode is skipped, never reported twice."""
    prompts: list[Prompt] = []
    summaries = [s for s in store.list() if s.error is None and s.id != exclude]
    for summary in reversed(summaries[:sessions]):
        try:
            if summary.path.stat().st_size > MAX_SESSION_FILE_BYTES:
                continue
            prompts += [exchange.request.prompt for exchange in store.load(summary.path).exchanges]
        except Exception:  # noqa: BLE001 - the history is a convenience: skip what cannot be read
            continue
    return prompts
