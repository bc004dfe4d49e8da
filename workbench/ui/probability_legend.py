"""The one-line legend under the transcript while tokens are coloured by probability."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from workbench.api.logprobs import BANDS
from workbench.ui.key_hints import hint
from workbench.ui.probability_bands import theme_band_styles


class ProbabilityLegend(Static):
    """Which colour means which probability; shown only while the view is on."""

    DEFAULT_CSS = """
    ProbabilityLegend { height: 1; display: none; color: $text-muted; padding: 0 1; }
    ProbabilityLegend.-shown { display: block; }
    """

    shown: reactive[bool] = reactive(False, init=False)
    """True while the transcript colours tokens by probability."""

    def watch_shown(self, shown: bool) -> None:
        self.set_class(shown, "-shown")
        if shown:
            self.update(self._legend())

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.shown:  # a new theme: new colours
            self.update(self._legend())

    def _legend(self) -> Text:
        styles = theme_band_styles(self.app)
        # Short enough to keep every band on an 80-column screen beside the sidebar.
        legend = Text("p ")
        for level, (_floor, label) in enumerate(BANDS):
            legend.append(f" {label} ", styles[level])
        legend.append(hint(self, "  {key:probabilities} off · {key:logprobs} inspect"))
        return legend
