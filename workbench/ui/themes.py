"""Theme files turned into Textual themes, registered on the app, and a theme picker that
previews each theme as it is highlighted.

The file format lives in :mod:`workbench.themes_format` (no Textual there, so it is tested
headless). Every theme here — shipped, user and Textual's own built-ins — carries the output
view's colours as CSS variables (``$wb-prompt``, ``$wb-completion``, ``$wb-echo``,
``$wb-error``, ``$wb-metrics``) and its pygments style as ``wb-pygments-style``, so the app's
stylesheet can use ``$wb-prompt`` whichever theme is active.

Wiring in the app::

    problems = register_themes(self)             # in __init__
    for problem in problems:
        self.notify(str(problem), title="Theme not loaded", severity="warning", markup=False)
    self.theme = initial_theme_name(config.theme, self.available_themes)

    def action_change_theme(self) -> None:       # ctrl+p "Change theme" calls this
        open_theme_picker(self)

    def on_theme_chosen(self, message: ThemeChosen) -> None:
        persist_theme_choice(config_file(), message.name)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from textual import on
from textual.app import App
from textual.color import Color, ColorParseError
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.message import Message
from textual.theme import BUILTIN_THEMES, Theme
from textual.widgets import OptionList

from workbench import paths
from workbench.themes_format import (
    OUTPUT_ROLES,
    OUTPUT_VARIABLE_PREFIX,
    PYGMENTS_STYLE_VARIABLE,
    ThemeProblem,
    ThemeSpec,
    load_all_themes,
)

DEFAULT_DARK_THEME = "workbench-dark"
DEFAULT_LIGHT_THEME = "workbench-light"
# Under NO_COLOR Textual strips colours itself; a theme made of the terminal's own default
# colours degrades to plain text most gracefully.
NO_COLOR_THEME = "workbench-ansi"


def to_textual_theme(spec: ThemeSpec) -> Theme:
    """A :class:`ThemeSpec` as a Textual :class:`Theme` with the workbench's variables."""
    optional: dict[str, object] = {}
    if spec.luminosity_spread is not None:
        optional["luminosity_spread"] = spec.luminosity_spread
    if spec.text_alpha is not None:
        optional["text_alpha"] = spec.text_alpha
    theme = Theme(
        name=spec.name,
        primary=spec.colors["primary"],
        secondary=spec.colors.get("secondary"),
        accent=spec.colors.get("accent"),
        warning=spec.colors.get("warning"),
        error=spec.colors.get("error"),
        success=spec.colors.get("success"),
        foreground=spec.colors.get("foreground"),
        background=spec.colors.get("background"),
        surface=spec.colors.get("surface"),
        panel=spec.colors.get("panel"),
        boost=spec.colors.get("boost"),
        dark=spec.dark,
        ansi=spec.ansi,
        variables=spec.css_variables(),
        **optional,  # type: ignore[arg-type]
    )
    # The headless validator accepts a documented subset of colours; make sure Textual
    # agrees before the theme can break the stylesheet at run time.
    for name in (*spec.colors.values(), *spec.output.values()):
        Color.parse(name)
    return theme


def with_output_variables(theme: Theme) -> Theme:
    """``theme`` (e.g. one of Textual's built-ins) with any missing ``wb-*`` variables derived
    from its own generated colours, so ``$wb-prompt`` resolves under every theme."""
    generated = theme.to_color_system().generate()
    derived = {
        "prompt": generated["text-primary"],
        "completion": generated["foreground"],
        "echo": generated["text-muted"],
        "error": generated["text-error"],
        "metrics": generated["text-accent"],
    }
    variables = {f"{OUTPUT_VARIABLE_PREFIX}{role}": derived[role] for role in OUTPUT_ROLES}
    variables[PYGMENTS_STYLE_VARIABLE] = (
        ("ansi_dark" if theme.dark else "ansi_light")
        if theme.ansi
        else ("monokai" if theme.dark else "default")
    )
    variables.update(theme.variables)
    return replace(theme, variables=variables)


def load_themes(
    shipped_dir: Path | None = None, user_dir: Path | None = None
) -> tuple[list[Theme], list[ThemeProblem]]:
    """Shipped and user themes as Textual themes, plus one problem per file that failed."""
    specs, problems = load_all_themes(
        shipped_dir or paths.shipped_themes_dir(),
        user_dir if user_dir is not None else paths.user_themes_dir(),
    )
    themes: list[Theme] = []
    for spec in specs:
        try:
            themes.append(to_textual_theme(spec))
        except ColorParseError as error:
            problems.append(ThemeProblem(spec.source or Path(spec.name), str(error)))
    return themes, problems


def register_builtin_themes(app: App[object], names: Iterable[str] | None = None) -> None:
    """Register Textual's own themes (those named, default all) with the ``wb-*`` variables."""
    for name in BUILTIN_THEMES if names is None else names:
        if name in BUILTIN_THEMES:
            app.register_theme(with_output_variables(BUILTIN_THEMES[name]))


def register_themes(
    app: App[object],
    shipped_dir: Path | None = None,
    user_dir: Path | None = None,
    *,
    builtins: Iterable[str] | None = None,
) -> list[ThemeProblem]:
    """Register every theme on ``app`` and return the files that failed (for ``notify``).

    ``builtins`` limits which of Textual's themes are registered now (deriving their
    variables takes ~1.4 ms each, ~30 ms for all): the app registers the one it may start
    with, and the others after its first frame (:func:`register_builtin_themes`).
    """
    register_builtin_themes(app, builtins)
    themes, problems = load_themes(shipped_dir, user_dir)
    for theme in themes:
        app.register_theme(theme)
    # The stylesheet took its variables in App.__init__, before these themes existed: refresh
    # them so CSS that says $wb-prompt parses on the first frame.
    app.stylesheet.set_variables(app.get_css_variables())
    return problems


def pygments_style_for(theme: Theme) -> str:
    """The pygments style (or Rich's ``ansi_dark``/``ansi_light``) to highlight code with."""
    style = theme.variables.get(PYGMENTS_STYLE_VARIABLE)
    if style:
        return style
    return with_output_variables(theme).variables[PYGMENTS_STYLE_VARIABLE]


def initial_theme_name(
    configured: str | None,
    available: Mapping[str, Theme],
    environ: Mapping[str, str] = os.environ,
) -> str:
    """The theme to start with: the ansi theme under NO_COLOR, else the configured one when it
    exists, else the dark default."""
    if "NO_COLOR" in environ and NO_COLOR_THEME in available:
        return NO_COLOR_THEME
    if configured and configured in available:
        return configured
    return DEFAULT_DARK_THEME if DEFAULT_DARK_THEME in available else "textual-dark"


# -- theme picker with live preview ----------------------------------------------------------


@dataclass
class ThemeChosen(Message):
    """Posted to the app when the user picks a theme in the picker (not on mere preview)."""

    name: str


class ThemeProvider(Provider):
    """Every registered theme, the current one first when nothing is typed."""

    def _choose(self, name: str) -> None:
        self.app.theme = name
        self.app.post_message(ThemeChosen(name))

    def _names(self) -> list[str]:
        return sorted(self.app.available_themes)

    async def discover(self) -> Hits:
        for name in self._names():
            yield DiscoveryHit(name, partial(self._choose, name), text=name)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name in self._names():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self._choose, name), text=name)


class ThemePicker(CommandPalette):
    """Textual's theme search, plus what it lacks (Textual 8.2): the highlighted theme is
    applied at once as a preview, and closing without a choice (Esc, a click outside) puts the
    original theme back. Public API only: the list's highlight and selection messages, and the
    screen's dismissal callback (see :func:`open_theme_picker`)."""

    def __init__(self) -> None:
        super().__init__(providers=[ThemeProvider], placeholder="Search for themes…")
        self.original_theme: str | None = None
        """The theme when the picker opened (what closing without a choice restores)."""
        self.chosen = False
        """True once a theme was selected (Enter or a click on it), not merely highlighted."""

    def on_mount(self) -> None:
        self.original_theme = self.app.theme

    @on(OptionList.OptionHighlighted)
    def _preview_highlighted_theme(self, event: OptionList.OptionHighlighted) -> None:
        hit = getattr(event.option, "hit", None)
        name = getattr(hit, "text", None)
        if name and name in self.app.available_themes and name != self.app.theme:
            self.app.theme = name

    @on(OptionList.OptionSelected)
    def _note_choice(self, event: OptionList.OptionSelected) -> None:
        # Not stopped: the palette itself runs the selected command.
        self.chosen = True

    def restore_unless_chosen(self, _result: object = None) -> None:
        """The picker closed: without a choice, the theme it opened with comes back."""
        if not self.chosen and self.original_theme and self.app.theme != self.original_theme:
            self.app.theme = self.original_theme


def open_theme_picker(app: App[object]) -> None:
    picker = ThemePicker()
    app.push_screen(picker, picker.restore_unless_chosen)
