"""The logprobs of an exchange as a table: token, its log-probability, the top alternatives."""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from workbench.ui.key_hints import hint


def logprob_rows(choice_index: int, logprobs: dict[str, Any]) -> list[tuple[str, ...]]:
    """Table rows from OpenAI-legacy logprobs (``tokens``, ``token_logprobs``, ``top_logprobs``)."""
    tokens = logprobs.get("tokens") or []
    values = logprobs.get("token_logprobs") or []
    tops = logprobs.get("top_logprobs") or []
    rows = []
    for position, token in enumerate(tokens):
        value = values[position] if position < len(values) else None
        top = tops[position] if position < len(tops) else None
        alternatives = ""
        if isinstance(top, dict):
            ranked = sorted(top.items(), key=lambda item: -(item[1] or -math.inf))
            alternatives = "  ".join(
                f"{tok!r} {lp:.2f}" for tok, lp in ranked[:5] if lp is not None
            )
        probability = f"{math.exp(value):.1%}" if isinstance(value, (int, float)) else "–"
        shown = f"{value:.3f}" if isinstance(value, (int, float)) else "–"
        rows.append((str(choice_index), repr(str(token)), shown, probability, alternatives))
    return rows


class LogprobsScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    LogprobsScreen { align: center middle; }
    LogprobsScreen > Vertical {
        width: 95%; height: 90%; border: round $primary; background: $surface;
    }
    LogprobsScreen DataTable { height: 1fr; }
    """
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="logprobs.close")]

    def __init__(self, per_choice: dict[int, dict[str, Any] | None]) -> None:
        super().__init__()
        self._per_choice = per_choice

    def compose(self) -> ComposeResult:
        with Vertical():
            rows = [
                row
                for index, logprobs in sorted(self._per_choice.items())
                if logprobs
                for row in logprob_rows(index, logprobs)
            ]
            if not rows:
                yield Static(
                    "No logprobs in this exchange: set the logprobs field (e.g. 3) and send again."
                    + hint(self, "  ({key:logprobs.close} closes)"),
                    markup=False,
                )
            table: DataTable[str] = DataTable(zebra_stripes=True, cursor_type="row")
            table.add_columns("choice", "token", "logprob", "p", "top alternatives")
            # Tokens are model output: cells as Text so brackets are not read as markup.
            table.add_rows([tuple(Text(cell) for cell in row) for row in rows])
            yield table

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
