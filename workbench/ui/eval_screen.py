"""The eval screen: a prompt turned into a template, cases as a table, variants, a run matrix.

Opened from the command palette ("Evaluate: turn the prompt into a template") with the current
prompt and sidebar parameters. Select text in the template and press **ctrl+k** to make it a
variable (it becomes a column of the cases table, its text the first value). The table is edited
by keyboard (**a** add, **d** delete, **enter** edit a cell, **i** import CSV/JSONL); variants
are one line each (``name: model=…,temperature=…``). **ctrl+r** runs every case × variant with
the same runner as ``workbench eval``; the matrix is coloured pass/fail and **enter** on a cell
shows its output, the failed assertions and the difference from the previous run's output.
**ctrl+s** saves the eval file (and each run writes its results file next to it): a relative
path is taken in ``evals/`` inside the session folder, where the session browser lists eval files;
**ctrl+o** opens one.

Everything that decides what is valid lives in :mod:`workbench.eval` (no Textual): the screen
writes the draft as eval-file text and loads it with :func:`load_eval_text`.
"""

from __future__ import annotations

import asyncio
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    DataTable,
    Footer,
    Input,
    Label,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)
from textual.worker import Worker, WorkerState

from workbench.api.fields import FieldValueError
from workbench.eval.assertions import AssertionSpecError, parse_spec
from workbench.eval.catalog import ensure_evals_folder, evals_folder, suggested_name
from workbench.eval.cases_file import CasesFileError, read_cases_file
from workbench.eval.draft import EvalDraft, asserts_to_text, text_to_asserts
from workbench.eval.plan import plan_cells
from workbench.eval.progress import describe
from workbench.eval.results import (
    CellRecord,
    ResultsFile,
    ResultsFileError,
    ResultsWriter,
    default_results_path,
    read_results,
)
from workbench.eval.runner import DEFAULT_CONCURRENCY, EvalRunner, Progress
from workbench.eval.spec import MAX_EVAL_FILE_BYTES, EvalFileError, EvalSpec, load_eval_text
from workbench.sessions.diff import inline_segments
from workbench.sessions.fsutil import atomic_write, read_start
from workbench.ui.key_hints import hint

STATUS_STYLES = {"pass": "bold green", "fail": "bold red", "error": "bold yellow"}
STATUS_MARKS = {"pass": "pass", "fail": "FAIL", "error": "ERROR"}
_DIFF_STYLES = {"equal": "", "delete": "bold red reverse", "insert": "bold green reverse"}
MAX_CELL_CHARS = 40


def read_eval_draft(path: Path) -> EvalDraft:
    """The eval file at ``path`` as a draft to edit, or ValueError with one line saying why
    (lenient: the file is checked properly on run and save)."""
    try:
        data = read_start(path, MAX_EVAL_FILE_BYTES)  # not a FIFO: it would hang the screen
        if len(data) > MAX_EVAL_FILE_BYTES:
            raise ValueError("larger than 10 MB")
        text = data.decode("utf-8")
        # The draft holds an inline prompt only: saving would replace prompt_file by an empty
        # prompt, so such a file is not opened here (workbench eval runs it).
        if "prompt_file" in tomllib.loads(text):
            raise ValueError("its prompt is in a prompt_file, which this screen cannot edit; run it with `workbench eval`")
        return EvalDraft.from_toml(text)
    except OSError as error:
        raise ValueError(error.strerror or str(error)) from None
    except (ValueError, RecursionError, TypeError, AttributeError) as error:
        # ValueError covers bad UTF-8 and bad TOML; Type/AttributeError a table where the
        # format has a list.
        raise ValueError(" ".join(str(error).split())) from None


def _clip(text: str, width: int = MAX_CELL_CHARS) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= width else text[: width - 1] + "…"


class AskScreen(ModalScreen[str | None]):
    """One line of input: enter gives it back, esc gives None."""

    DEFAULT_CSS = """
    AskScreen { align: center middle; }
    AskScreen > Vertical { width: 70; max-width: 95%; height: auto; border: round $accent;
                           background: $surface; padding: 0 1; }
    AskScreen Label { width: 1fr; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", show=False)]

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, markup=False)
            yield Input(self.value, id="ask-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class CellScreen(ModalScreen[None]):
    """One cell of the matrix: output, failed assertions, difference from the previous run."""

    DEFAULT_CSS = """
    CellScreen { align: center middle; }
    CellScreen > VerticalScroll { width: 90%; height: 90%; border: round $accent;
                                  background: $surface; padding: 0 1; }
    CellScreen .heading { text-style: bold; margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, record: CellRecord, previous: CellRecord | None) -> None:
        super().__init__()
        self.record = record
        self.previous = previous

    def compose(self) -> ComposeResult:
        record = self.record
        with VerticalScroll():
            verdict = Text(f"{record.case} × {record.variant}: ")
            verdict.append(STATUS_MARKS[record.status], style=STATUS_STYLES[record.status])
            yield Static(verdict, id="cell-verdict")
            if record.error:
                yield Static(Text(record.error), id="cell-error")
            if record.failures:
                yield Label("Failed assertions", classes="heading")
                for failure in record.failures:
                    yield Static(Text(f"✗ {failure['assertion']}: {failure['message']}"), classes="failure")
            yield Label("Output", classes="heading")
            yield Static(Text(record.output), id="cell-output")
            yield Label("Compared with the previous run", classes="heading")
            yield Static(self._difference(), id="cell-diff")

    def _difference(self) -> Text:
        previous = self.previous
        if previous is None:
            return Text("No previous run of this cell.", style="italic")
        if previous.output == self.record.output:
            return Text(f"Same output as the previous run (then: {previous.status}).", style="italic")
        _old, new = inline_segments(previous.output, self.record.output)
        text = Text(f"previous: {previous.status}; changes: ", style="italic")
        for tag, piece in new:
            text.append(piece, style=_DIFF_STYLES[tag])
        removed = [piece for tag, piece in _old if tag == "delete"]
        if removed:
            text.append("\nremoved: ", style="italic")
            text.append(" … ".join(removed), style=_DIFF_STYLES["delete"])
        return text

    def action_close(self) -> None:
        self.dismiss(None)


class EvalScreen(Screen[None]):
    """Edit and run an eval (see the module docstring)."""

    HELP = """\
## Evaluate

The **template** is the prompt with `{{name}}` variables: select text and press
**{key:eval.mark_variable}** to turn it into one. **Cases** fill the variables: **a** adds a row,
**d** deletes one, **{key:eval.open_cell}** edits a cell (the *assert* column takes TOML:
`{ type = "contains", value = "Bonjour" }`), **i** imports a CSV or JSONL file. **Variants**: one
per line, `name: model=…,temperature=0.2`. **{key:eval.run}** runs every case with every variant;
**{key:eval.open_cell}** on a result shows the output, the failed assertions and the difference
from the previous run. **{key:eval.save}** saves (a relative path goes in `evals/` in the
session folder, which the session browser lists), **{key:eval.open}** opens an eval file;
**{key:eval.cancel}** cancels a run, then closes. Same format and rules as `workbench eval`
(docs/eval-format.md).
"""

    DEFAULT_CSS = """
    EvalScreen { background: $background; }
    EvalScreen #eval-title { height: 1; padding: 0 1; text-style: bold; }
    EvalScreen #eval-top { height: 7; }
    EvalScreen #eval-template { width: 2fr; height: 7; }
    EvalScreen #eval-variants { width: 1fr; height: 7; }
    EvalScreen TabbedContent { height: 1fr; }
    EvalScreen #eval-progress-row { height: 1; padding: 0 1; display: none; }
    EvalScreen #eval-progress { width: 32; }
    EvalScreen #eval-status { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    EvalScreen #eval-matrix { height: auto; max-height: 1fr; }
    EvalScreen #eval-summary { height: auto; margin: 1 0 0 0; }
    """
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", id="eval.run", priority=True),
        Binding("ctrl+k", "mark_variable", "Make variable", id="eval.mark_variable", priority=True),
        Binding("ctrl+s", "save", "Save", id="eval.save", priority=True),
        Binding("ctrl+o", "open", "Open", id="eval.open", priority=True),
        Binding("escape", "cancel_or_close", "Cancel / close", id="eval.cancel", priority=True),
        # The tables' own enter does the same; this binding gives the action an id, so the
        # hints name the key the keymap gives it, and a remapped key works too.
        Binding("enter", "open_cell", "Edit / open cell", id="eval.open_cell", show=False),
    ]
    CASE_BINDINGS = {"a": "add_case", "d": "delete_case", "delete": "delete_case", "i": "import_cases"}

    def __init__(
        self,
        draft: EvalDraft | None = None,
        *,
        path: Path | None = None,
        client: Any = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        sessions_dir: Path | None = None,
    ) -> None:
        """``sessions_dir``: the session folder, whose ``evals/`` is where a new eval file is
        saved unless the user gives a path (None: relative to the working folder)."""
        super().__init__()
        self.draft = draft or EvalDraft()
        self.path = path
        self.sessions_dir = sessions_dir
        self._client = client
        self.concurrency = concurrency
        self.records: dict[tuple[str, str], CellRecord] = {}
        self.previous: dict[tuple[str, str], CellRecord] = {}
        self.spec: EvalSpec | None = None
        self.finished: asyncio.Event | None = None
        self._worker: Worker[None] | None = None

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._title_text(), id="eval-title", markup=False)
        with Horizontal(id="eval-top"):
            template = TextArea(self.draft.prompt, id="eval-template", soft_wrap=True)
            template.border_title = hint(self, "Template · select text, {key:eval.mark_variable}: variable")
            yield template
            variants = TextArea(self.draft.variants_text(), id="eval-variants", soft_wrap=False)
            variants.border_title = "Variants · name: field=value,…"
            yield variants
        with TabbedContent(id="eval-tabs"):
            with TabPane("Cases", id="cases-pane"):
                yield DataTable(id="eval-cases", cursor_type="cell", zebra_stripes=True)
            with TabPane("Results", id="results-pane"):
                with VerticalScroll():
                    yield DataTable(id="eval-matrix", cursor_type="cell")
                    yield DataTable(id="eval-summary", cursor_type="none", show_cursor=False)
        with Horizontal(id="eval-progress-row"):
            yield ProgressBar(id="eval-progress", show_eta=False)
            yield Static("", id="eval-run-line", markup=False)
        yield Static(
            hint(self, "a add case · d delete · {key:eval.open_cell} edit · i import · {key:eval.run} run"),
            id="eval-status",
            markup=False,
        )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.finished = asyncio.Event()
        self._fill_cases()
        self._load_previous()
        self.query_one("#eval-template", TextArea).focus()

    def _title_text(self) -> str:
        where = str(self.path) if self.path else "not saved"
        return f"Eval — {self.draft.title} · {where}"

    def _say(self, text: str) -> None:
        self.query_one("#eval-status", Static).update(text)

    # -- the cases table ----------------------------------------------------------------------

    def _columns(self) -> list[str]:
        return ["name", *self.draft.variable_names, "assert"]

    def _fill_cases(self, keep_cursor: bool = True) -> None:
        table = self.query_one("#eval-cases", DataTable)
        cursor = table.cursor_coordinate
        table.clear(columns=True)
        for column in self._columns():
            table.add_column(column)  # no keys: a variable may be called "name" or "assert"
        for case in self.draft.cases:
            described = "; ".join(self._describe_assert(a) for a in case.asserts)
            table.add_row(
                _clip(case.name, 24),
                *(_clip(case.vars.get(name, "")) for name in self.draft.variable_names),
                _clip(described or "–"),
            )
        if keep_cursor and table.row_count:
            table.move_cursor(row=min(cursor.row, table.row_count - 1), column=min(cursor.column, len(self._columns()) - 1))

    @staticmethod
    def _describe_assert(table: dict[str, Any]) -> str:
        try:
            return parse_spec(table).describe()
        except AssertionSpecError:
            return "(invalid assertion)"

    def on_key(self, event: Any) -> None:
        table = self.query_one("#eval-cases", DataTable)
        action = self.CASE_BINDINGS.get(event.key)
        if action is not None and self.focused is table:
            event.stop()
            event.prevent_default()
            getattr(self, f"action_{action}")()

    def action_add_case(self) -> None:
        self.draft.add_case()
        self._fill_cases(keep_cursor=False)
        table = self.query_one("#eval-cases", DataTable)
        table.move_cursor(row=table.row_count - 1, column=0)
        self._say(f"Added {self.draft.cases[-1].name}; " + hint(self, "{key:eval.open_cell} edits a cell."))

    def action_delete_case(self) -> None:
        table = self.query_one("#eval-cases", DataTable)
        if not self.draft.cases:
            return
        removed = self.draft.cases.pop(table.cursor_coordinate.row)
        self._fill_cases()
        self._say(f"Deleted {removed.name}.")

    def action_import_cases(self) -> None:
        def chosen(answer: str | None) -> None:
            if not answer:
                return
            path = Path(answer).expanduser()
            if not path.is_absolute() and self.path is not None:
                path = self.path.parent / path
            try:
                count = self.draft.import_cases(read_cases_file(path))
            except CasesFileError as error:
                self._say(f"{path}:{error.line}: {error}")
                return
            except OSError as error:
                self._say(f"Cannot read {path}: {error.strerror or error}")
                return
            self._fill_cases()
            self._say(f"Imported {count} cases from {path.name}.")

        self.app.push_screen(AskScreen("Import cases from a CSV or JSONL file:"), chosen)

    def action_open_cell(self) -> None:
        """Edit the cell under a table's cursor, or show a result (the tables' enter)."""
        table = self.focused
        if isinstance(table, DataTable) and table.id in ("eval-cases", "eval-matrix"):
            table.action_select_cursor()

    @on(DataTable.CellSelected, "#eval-cases")
    def _edit_cell(self, event: DataTable.CellSelected) -> None:
        row, column = event.coordinate.row, event.coordinate.column
        if row >= len(self.draft.cases):
            return
        case = self.draft.cases[row]
        name = self._columns()[column]
        if name == "name":
            current = case.name
        elif name == "assert":
            current = asserts_to_text(case.asserts)
        else:
            current = case.vars.get(name, "")

        def edited(value: str | None) -> None:
            if value is None:
                return
            if name == "name":
                if not value.strip() or any(c.name == value for c in self.draft.cases if c is not case):
                    self._say(f"Case names must be unique and not empty: {value!r}.")
                    return
                case.name = value
            elif name == "assert":
                try:
                    asserts = text_to_asserts(value)
                    for table in asserts:
                        parse_spec(table)
                except (ValueError, AssertionSpecError) as error:
                    self._say(f"Assertions not changed: {error}")
                    return
                case.asserts = asserts
            else:
                case.vars[name] = value
            self._fill_cases()

        self.app.push_screen(AskScreen(f"{case.name} · {name}:", current), edited)

    # -- the template -------------------------------------------------------------------------

    @on(TextArea.Changed, "#eval-template")
    def _template_changed(self, event: TextArea.Changed) -> None:
        self.draft.prompt = event.text_area.text

    def action_mark_variable(self) -> None:
        area = self.query_one("#eval-template", TextArea)
        selection = area.selection
        start, end = sorted((selection.start, selection.end))
        if start == end:
            self._say(hint(self, "Select the text that should become a variable, then {key:eval.mark_variable}."))
            return
        document = area.document
        offsets = (_offset(document.text, start), _offset(document.text, end))

        def named(name: str | None) -> None:
            if not name:
                return
            try:
                self.draft.mark_variable(offsets[0], offsets[1], name.strip())
            except ValueError as error:
                self._say(str(error))
                return
            area.load_text(self.draft.prompt)
            self._fill_cases()
            self._say(f"{{{{{name.strip()}}}}} is a variable; its text is the first case's value.")

        self.app.push_screen(AskScreen("Variable name for the selected text:", "text"), named)

    # -- building, running ----------------------------------------------------------------------

    def _build(self) -> EvalSpec | None:
        try:
            self.draft.set_variants_text(self.query_one("#eval-variants", TextArea).text)
        except FieldValueError as error:
            self._say(f"Variants: {error}")
            return None
        where = self.path or Path.cwd() / "untitled.eval.toml"
        try:
            return load_eval_text(self.draft.to_toml(), where)
        except EvalFileError as error:
            self._say(f"Cannot run: {error.message}")
            return None

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def action_run(self) -> None:
        if self.running:
            return
        spec = self._build()
        if spec is None:
            return
        self.spec = spec
        if self.records:
            self.previous = dict(self.records)
        self.records = {}
        if self.finished is not None:
            self.finished.clear()
        self._fill_matrix()
        self.query_one("#eval-tabs", TabbedContent).active = "results-pane"
        self._worker = self._run(spec)

    @work(exclusive=True, group="eval")
    async def _run(self, spec: EvalSpec) -> None:
        cells = plan_cells(spec)
        bar = self.query_one("#eval-progress", ProgressBar)
        bar.update(total=len(cells), progress=0)
        self.query_one("#eval-progress-row").display = True
        writer = None
        if self.path is not None:
            header = ResultsFile(
                eval_file=self.path.name,
                title=spec.title,
                records=[],
                complete=False,
                started=datetime.now(timezone.utc).replace(microsecond=0),
                cells_planned=len(cells),
            )
            writer = ResultsWriter(default_results_path(self.path), header, [c.key for c in cells])
        owned = None
        client = self._client
        if client is None:
            from workbench.api.client import CompletionClient

            # Its own client without retries: the runner retries, so that it sees each 429.
            owned = client = CompletionClient(self.app.endpoint, max_retries=0)  # type: ignore[attr-defined]

        def on_record(record: CellRecord) -> None:
            self.records[record.key] = record
            if writer is not None:
                writer.add(record)
            self._show_cell(record)
            bar.advance(1)

        def on_progress(progress: Progress) -> None:
            self.query_one("#eval-run-line", Static).update(describe(progress, bar=False))

        runner = EvalRunner(client, concurrency=self.concurrency, on_record=on_record, on_progress=on_progress)
        try:
            await runner.run(cells)
            self._summarise()
            self._say(hint(self, "Done · {key:eval.open_cell} on a cell shows its output · {key:eval.run} runs again"))
        except asyncio.CancelledError:
            self._say(f"Cancelled after {len(self.records)} of {len(cells)} cells.")
            raise
        finally:
            if owned is not None:
                await owned.aclose()
            if writer is not None:
                try:
                    writer.flush(complete=len(self.records) == len(cells))
                except OSError as error:
                    self._say(f"Results not saved: {error.strerror or error}")
            if self.finished is not None:
                self.finished.set()

    def _fill_matrix(self) -> None:
        table = self.query_one("#eval-matrix", DataTable)
        table.clear(columns=True)
        if self.spec is None:
            return
        table.add_column("case", key="\x00case")  # a key no variant name can take
        for variant in self.spec.variants:
            table.add_column(_clip(variant.name, 16), key=variant.name)
        for case in self.spec.cases:
            table.add_row(_clip(case.name, 24), *("…" for _ in self.spec.variants), key=case.name)
        self.query_one("#eval-summary", DataTable).clear(columns=True)

    def _show_cell(self, record: CellRecord) -> None:
        table = self.query_one("#eval-matrix", DataTable)
        mark = Text(STATUS_MARKS[record.status], style=STATUS_STYLES[record.status])
        table.update_cell(record.case, record.variant, mark, update_width=True)

    def _summarise(self) -> None:
        from workbench.eval.report import summarise

        if self.spec is None:
            return
        records = list(self.records.values())
        table = self.query_one("#eval-summary", DataTable)
        table.clear(columns=True)
        # The same figures as the command's summary table, in a table that scrolls sideways.
        for title in ("variant", "pass rate", "passed", "failed", "errors", "median TTFT", "tok/s", "tokens in/out"):
            table.add_column(title)
        for summary in summarise(records, [v.name for v in self.spec.variants]):
            rate = "-" if summary.pass_rate is None else f"{summary.pass_rate:.0%}"
            ttft = "-" if summary.median_ttft_s is None else f"{summary.median_ttft_s * 1000:,.0f} ms"
            speed = "-" if summary.median_tokens_per_s is None else f"{summary.median_tokens_per_s:,.0f}"
            table.add_row(
                _clip(summary.name, 24), rate, str(summary.passed), str(summary.failed),
                str(summary.errored), ttft, speed, f"{summary.prompt_tokens:,}/{summary.completion_tokens:,}",
            )  # fmt: skip

    @on(DataTable.CellSelected, "#eval-matrix")
    def _open_cell(self, event: DataTable.CellSelected) -> None:
        if self.spec is None or event.coordinate.column == 0:
            return
        case = self.spec.cases[event.coordinate.row].name
        variant = self.spec.variants[event.coordinate.column - 1].name
        record = self.records.get((case, variant))
        if record is None:
            self._say("That cell has not finished yet.")
            return
        self.app.push_screen(CellScreen(record, self.previous.get((case, variant))))

    # -- files ------------------------------------------------------------------------------

    def _load_previous(self) -> None:
        if self.path is None:
            return
        try:
            found = read_results(default_results_path(self.path))
        except ResultsFileError:
            return
        if found is not None:
            self.previous = found.by_key()

    def action_save(self) -> None:
        if self._build() is None:
            return
        if self.path is not None:
            self._write(self.path)
            return

        question, folder = self._path_question("Save the eval file as")

        def chosen(answer: str | None) -> None:
            path = _answered_path(answer, folder)
            if path is None:
                return
            if folder is not None:
                if path.parent == folder:
                    try:
                        ensure_evals_folder(self.sessions_dir)  # type: ignore[arg-type]
                    except OSError as error:
                        self._say(f"Not saved: cannot create {folder}: {error.strerror or error}")
                        return
            self._write(path)

        self.app.push_screen(AskScreen(question, suggested_name(self.draft.title, folder)), chosen)

    def _path_question(self, asking: str) -> tuple[str, Path | None]:
        """The question for a file name, and the folder a relative answer is taken from."""
        if self.sessions_dir is None:
            return f"{asking}:", None
        folder = evals_folder(self.sessions_dir)
        return f"{asking} (relative to {folder}):", folder

    def _write(self, path: Path) -> None:
        text = self.draft.to_toml()
        try:
            load_eval_text(text, path)  # files it names are found next to where it goes
            atomic_write(path, text.encode("utf-8"))
        except EvalFileError as error:
            self._say(f"Not saved: {error.message}")
            return
        except OSError as error:
            self._say(f"Not saved: {error.strerror or error}")
            return
        self.path = path
        self.query_one("#eval-title", Static).update(self._title_text())
        self._say(f"Saved {path}; `workbench eval {path}` runs it headless.")

    def action_open(self) -> None:
        question, folder = self._path_question("Open an eval file")

        def chosen(answer: str | None) -> None:
            path = _answered_path(answer, folder)
            if path is None:
                return
            try:
                draft = read_eval_draft(path)
            except ValueError as error:
                self._say(f"Cannot open {path}: {error}")
                return
            self.draft, self.path = draft, path
            self.records, self.previous, self.spec = {}, {}, None
            self.query_one("#eval-template", TextArea).load_text(draft.prompt)
            self.query_one("#eval-variants", TextArea).load_text(draft.variants_text())
            self.query_one("#eval-title", Static).update(self._title_text())
            self._fill_cases(keep_cursor=False)
            self._fill_matrix()
            self._load_previous()
            self._say(f"Opened {path}.")

        self.app.push_screen(AskScreen(question), chosen)

    def action_cancel_or_close(self) -> None:
        if self.running and self._worker is not None:
            self._worker.cancel()
            return
        self.dismiss(None)


def _offset(text: str, location: tuple[int, int]) -> int:
    """A TextArea (row, column) location as an offset into its text."""
    row, column = location
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[:row]) + column


def open_eval_screen(app: Any) -> None:
    """From the main screen: the current prompt as a template, the sidebar's fields as the
    defaults, one variant for the sidebar's model."""
    from workbench.api.fields import request_values

    prompt = app.prompt_pane.text
    request, _errors = app.sidebar.build_request(prompt or " ")
    values = request_values(request)
    values.pop("prompt", None)
    model = values.pop("model", None)
    draft = EvalDraft.from_prompt(prompt, values)
    if model:
        from workbench.eval.draft import DraftVariant

        draft.variants.append(DraftVariant(model, {"model": model}))
    store = getattr(app, "store", None)
    app.push_screen(EvalScreen(draft, sessions_dir=getattr(store, "directory", None)))


def _answered_path(answer: str | None, folder: Path | None) -> Path | None:
    """The path typed into the file-name question; relative to ``folder`` when there is one
    (an absolute or ``~`` path stays as it is). None when nothing was typed."""
    if not answer or not answer.strip():
        return None
    path = Path(answer.strip()).expanduser()
    return folder / path if folder is not None else path
