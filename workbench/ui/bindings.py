"""The app's key bindings and the words used for each action (footer, palette, F1 help).

Every binding has a stable ``id`` so ``[keymap]`` in the config file can remap it. The ids and
their default keys live in :data:`workbench.keymap.DEFAULT_KEYS`, where the config is checked
without Textual; the assertion below keeps the two lists equal.
"""

from __future__ import annotations

from textual.binding import Binding

from workbench.keymap import BINDING_IDS, DEFAULT_KEYS

APP_BINDINGS: list[Binding] = [
    Binding(
        DEFAULT_KEYS["send"],
        "send",
        "Send",
        id="send",
        priority=True,
        tooltip="Send the prompt with the sidebar's parameters",
    ),
    Binding(
        DEFAULT_KEYS["cancel"],
        "cancel",
        "Cancel",
        id="cancel",
        priority=True,
        tooltip="Stop the request in flight; its partial text is kept",
    ),
    Binding(
        DEFAULT_KEYS["continue"],
        "continue",
        "Continue",
        id="continue",
        priority=True,
        tooltip="Append the last completion to its prompt and send again",
    ),
    Binding(
        DEFAULT_KEYS["regenerate"],
        "regenerate",
        "Regenerate",
        id="regenerate",
        priority=True,
        tooltip="Send the last request again, unchanged",
    ),
    Binding(
        DEFAULT_KEYS["clear"],
        "clear",
        "Clear",
        id="clear",
        priority=True,
        show=False,
        tooltip="Clear the transcript and start a new session",
    ),
    Binding(
        DEFAULT_KEYS["copy"],
        "copy",
        "Copy",
        id="copy",
        priority=True,
        tooltip="Copy the last completion to the clipboard (OSC 52, works over SSH)",
    ),
    Binding(
        DEFAULT_KEYS["edit"],
        "edit",
        "$EDITOR",
        id="edit",
        priority=True,
        show=False,
        tooltip="Edit the prompt in $VISUAL / $EDITOR",
    ),
    Binding(
        DEFAULT_KEYS["toggle_sidebar"],
        "toggle_sidebar",
        "Sidebar",
        id="toggle_sidebar",
        priority=True,
        show=False,
        tooltip="Show or hide the parameter sidebar",
    ),
    # f6/f7 are TextArea's select-line/select-all: priority keeps them ours in the prompt too.
    Binding(
        DEFAULT_KEYS["focus_next_pane"],
        "focus_pane(1)",
        "Next pane",
        id="focus_next_pane",
        show=False,
        priority=True,
    ),
    Binding(
        DEFAULT_KEYS["focus_previous_pane"],
        "focus_pane(-1)",
        "Previous pane",
        id="focus_previous_pane",
        show=False,
        priority=True,
    ),
    Binding(
        DEFAULT_KEYS["save"],
        "save",
        "Save",
        id="save",
        priority=True,
        show=False,
        tooltip="Save the session now (it is autosaved after every exchange anyway)",
    ),
    Binding(
        DEFAULT_KEYS["sessions"],
        "sessions",
        "Sessions",
        id="sessions",
        priority=True,
        tooltip="Browse saved sessions and load one",
    ),
    # Priority, like the other app keys: Textual looks for a modal screen's keys only up to
    # that screen, but priority keys from the app down, so F1 also works on a dialog
    # (check_action keeps it off on the help sheet itself, where F1 closes it).
    Binding(DEFAULT_KEYS["help"], "help", "Help", id="help", priority=True),
    Binding(
        DEFAULT_KEYS["prompt_form"],
        "prompt_form",
        "Form",
        id="prompt_form",
        priority=True,
        show=False,
        tooltip="Switch the prompt form: text → batch → token ids",
    ),
    Binding(
        DEFAULT_KEYS["logprobs"],
        "logprobs",
        "Logprobs",
        id="logprobs",
        priority=True,
        show=False,
        tooltip="Inspect the tokens of the selected (or last) exchange",
    ),
    Binding(
        DEFAULT_KEYS["search"],
        "search_transcript",
        "Search",
        id="search",
        priority=True,
        show=False,
        tooltip="Search the transcript (from any pane)",
    ),
    Binding(
        DEFAULT_KEYS["probabilities"],
        "toggle_probabilities",
        "Probabilities",
        id="probabilities",
        priority=True,
        show=False,
        tooltip="Colour every generated token by its probability (needs logprobs)",
    ),
    Binding(
        DEFAULT_KEYS["reset_parameters"],
        "reset_parameters",
        "Reset params",
        id="reset_parameters",
        show=False,
        priority=True,
        tooltip="Reset every parameter to the defaults",
    ),
    Binding(
        DEFAULT_KEYS["export"],
        "export",
        "Export",
        id="export",
        priority=True,
        show=False,
        tooltip="Show the request as curl / Python SDK / httpx / JSON",
    ),
    Binding(
        DEFAULT_KEYS["compare"],
        "compare",
        "Compare",
        id="compare",
        priority=True,
        show=False,
        tooltip="Send the prompt as 2-4 variants at once, side by side (models or any field)",
    ),
]
# Descriptions for the command palette and the help screen, by action name.
ACTION_TITLES: dict[str, str] = {
    "send": "Send the prompt",
    "cancel": "Cancel the request in flight (keeps the partial text)",
    "continue": "Continue: append the last completion to its prompt and send",
    "regenerate": "Regenerate: send the last request again",
    "clear": "Clear the transcript (starts a new session)",
    "copy": "Copy the last completion to the clipboard",
    "edit": "Edit the prompt in $EDITOR",
    "toggle_sidebar": "Show or hide the parameter sidebar",
    "focus_next_pane": "Focus the next pane",
    "focus_previous_pane": "Focus the previous pane",
    "save": "Save the session now",
    "sessions": "Browse and load saved sessions",
    "help": "Show keys and help",
    "prompt_form": "Switch prompt form (text / batch / token ids)",
    "logprobs": "Inspect tokens: probabilities and alternatives of the selected exchange",
    "reset_parameters": "Reset parameters to defaults",
    "export": "Export the request as curl / Python / JSON",
    "compare": "Compare: send the prompt as several variants side by side",
    "probabilities": "Colour tokens by probability in the transcript (on / off)",
    "search": "Search the transcript",
}
assert {b.id for b in APP_BINDINGS} == set(BINDING_IDS) == set(ACTION_TITLES)
ACTION_NAMES = {binding.action.split("(")[0] for binding in APP_BINDINGS}
