"""Deterministic session folders and a host app for the session browser and replay tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from textual.app import App

from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, CompletionResult, Usage
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import SessionStore

BASE_TIME = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)

SAMPLES = [
    ("Haiku about autumn", "llama3.1-8b", "write a haiku about autumn", "old pond, frog leaps in"),
    ("Rust fizzbuzz", "qwen-3-32b", "fizzbuzz in rust please", "fn main() { for i in 1..=100 {} }"),
    ("Summarise the meeting", "llama-3.3-70b", "summarise: budget approved", "The budget was approved."),
    ("Token ids test", "llama-4-scout-17b-16e-instruct", "tokens", "12 55 901"),
    ("", "llama3.1-8b", "Untitled prompt first line\nsecond line", "an answer"),
]


def fill_store(directory: Path, count: int | None = None) -> SessionStore:
    """Sessions with fixed ids and times (newest = first sample), saved without touching."""
    store = SessionStore(directory)
    for number, (title, model, prompt, output) in enumerate(SAMPLES[:count]):
        moment = BASE_TIME - timedelta(hours=number * 7)
        session = Session(
            id=f"20261120-0930{number:02d}-000-00000{number}",
            title=title,
            created=moment,
            updated=moment,
            profile="default",
        )
        for turn in range(number % 3 + 1):
            request = CompletionRequest(model=model, prompt=prompt, seed=turn, max_tokens=64)
            result = CompletionResult(
                choices=[Choice(index=0, text=output, finish_reason="stop")],
                usage=Usage(prompt_tokens=5, completion_tokens=9, total_tokens=14),
            )
            exchange = Exchange.from_outcome(request, result, started_at=moment, finished_at=moment)
            exchange.id = f"ex-{number}-{turn}"
            session.exchanges.append(exchange)
        store.save(session, touch=False)
    return store


class BrowserHost(App[None]):
    """A bare app that opens a screen on start and records what it was dismissed with."""

    def __init__(self, make_screen: Any, **attributes: Any) -> None:
        super().__init__()
        self._make_screen = make_screen
        self.result: Any = "not dismissed"
        for name, value in attributes.items():
            setattr(self, name, value)

    def on_mount(self) -> None:
        self.push_screen(self._make_screen(), self._dismissed)

    def _dismissed(self, result: Any) -> None:
        self.result = result
