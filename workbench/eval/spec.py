"""The eval file: reading it, checking every part, and naming the line of any mistake.

See ``docs/eval-format.md`` for the format. :func:`load_eval` returns an :class:`EvalSpec` whose
cases have their prompts rendered and their assertions bound, or raises :class:`EvalFileError`
whose ``str()`` is one line: ``file:line: what is wrong``.

Variants are requests: the built-in defaults (streaming on, so the time to first token is
measured; ``max_tokens`` 256), then the file's ``[defaults]``, then the variant's own fields,
parsed by :mod:`workbench.api.fields` and checked by ``CompletionRequest.validate`` — the same
rules as the sidebar, ``run`` flags and compare lanes. The user's config file does not take
part: an eval file means the same thing on a laptop and in CI.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable, Mapping

from workbench.api.fields import (
    BUILTIN_DEFAULTS,
    FieldValueError,
    apply_overrides,
    check_value,
    spec_for,
)
from workbench.api.request import CompletionRequest
from workbench.eval.assertions import (
    Assertion,
    AssertionSpec,
    AssertionSpecError,
    bind,
    parse_spec,
    regex_risk,
)
from workbench.eval.cases_file import CasesFileError, RawCase, read_cases_file
from workbench.eval.locate import KeyLines
from workbench.eval.template import Template, TemplateError, parse
from workbench.sessions.fsutil import read_start

SCHEMA_VERSION = 1
MAX_EVAL_FILE_BYTES = 10 * 1024 * 1024
MAX_PROMPT_FILE_BYTES = 1024 * 1024
MAX_VARIANTS = 64
MAX_CASES = 100_000
TOP_LEVEL_KEYS = (
    "schema_version",
    "title",
    "prompt",
    "prompt_file",
    "cases_file",
    "defaults",
    "variants",
    "cases",
    "assert",
)
CASE_KEYS = ("name", "vars", "assert")
DEFAULT_VARIANT_NAME = "default"


class EvalFileError(ValueError):
    """A mistake in an eval file (or a file it names), at ``path:line``."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    overrides: Mapping[str, Any]  # the variant's own fields, as written
    request: CompletionRequest  # defaults + overrides; the prompt is filled per case
    line: int


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    vars: Mapping[str, str]
    prompt: str  # the template filled with vars
    assertions: tuple[Assertion, ...]  # file-level first, then the case's own
    origin: str  # "file:line", for messages


@dataclass(frozen=True, slots=True)
class EvalSpec:
    path: Path
    title: str
    template: Template
    defaults: Mapping[str, Any]
    variants: tuple[Variant, ...]
    cases: tuple[Case, ...]
    warnings: tuple[str, ...] = ()  # "file:line: warning: …" lines worth showing

    @property
    def cell_count(self) -> int:
        return len(self.variants) * len(self.cases)


def _suggest(name: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f"; expected one of {', '.join(choices)}"


class _Loader:
    def __init__(self, path: Path, data: bytes | None = None) -> None:
        self.path = path
        self.data = data
        self.shown = str(path)
        self.lines: KeyLines | None = None
        self.text_lines: list[str] = []
        self.warnings: list[str] = []

    def fail(self, message: str, *path: Hashable, line: int | None = None) -> EvalFileError:
        if line is None:
            line = self.lines.line(*path) if self.lines else 1
        return EvalFileError(self.shown, line, message)

    # -- the file ------------------------------------------------------------------------

    def read(self) -> tuple[str, dict[str, Any]]:
        if self.data is not None:
            data = self.data
        else:
            try:
                data = read_start(self.path, MAX_EVAL_FILE_BYTES)
            except OSError as error:
                raise EvalFileError(self.shown, 1, f"cannot read: {error.strerror or error}") from None
        if len(data) > MAX_EVAL_FILE_BYTES:
            raise self.fail(f"larger than {MAX_EVAL_FILE_BYTES // (1024 * 1024)} MB", line=1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise self.fail("not valid UTF-8", line=data[: error.start].count(b"\n") + 1) from None
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            message = str(error)
            found = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
            line = int(found.group(1)) if found else 1
            message = message[: found.start()] if found else message
            if found is None and "end of document" in message:
                line = text.count("\n") + 1
            raise self.fail(f"not valid TOML: {message}", line=line) from None
        except RecursionError:
            raise self.fail("not valid TOML: nested too deeply", line=1) from None
        self.lines = KeyLines(text)
        self.text_lines = text.split("\n")  # TOML lines, not str.splitlines (U+0085 …)
        return text, document

    def load(self) -> EvalSpec:
        _, document = self.read()
        for key in document:
            if key not in TOP_LEVEL_KEYS:
                raise self.fail(f"unknown key {key!r}{_suggest(key, TOP_LEVEL_KEYS)}", key)
        version = document.get("schema_version", SCHEMA_VERSION)
        if isinstance(version, bool) or not isinstance(version, int):
            raise self.fail("schema_version must be a whole number", "schema_version")
        if version > SCHEMA_VERSION:
            raise self.fail(
                f"schema_version {version} is newer than this workbench understands "
                f"({SCHEMA_VERSION})",
                "schema_version",
            )
        if version < 1:
            raise self.fail("schema_version must be 1", "schema_version")
        title = document.get("title", self.path.stem)
        if not isinstance(title, str):
            raise self.fail("title must be a string", "title")
        template, prompt_where = self.template(document)
        defaults = self.fields(document.get("defaults", {}), ("defaults",))
        variants = self.variants(document.get("variants"), defaults)
        file_asserts = self.assertion_specs(document.get("assert", []), ("assert",), None)
        raw_cases = self.raw_cases(document)
        cases = self.cases(raw_cases, template, prompt_where, file_asserts)
        return EvalSpec(self.path, title, template, defaults, variants, cases, tuple(self.warnings))

    # -- prompt ---------------------------------------------------------------------------

    def template(self, document: Mapping[str, Any]) -> tuple[Template, tuple[str, int]]:
        has_prompt, has_file = "prompt" in document, "prompt_file" in document
        if has_prompt == has_file:
            which = "both" if has_prompt else "neither"
            raise self.fail(
                f"set exactly one of prompt and prompt_file (this file sets {which})",
                "prompt" if has_prompt else "prompt_file",
                line=None if has_prompt or has_file else 1,
            )
        if has_prompt:
            text = document["prompt"]
            if not isinstance(text, str):
                raise self.fail("prompt must be a string", "prompt")
            first_line = self.lines.line("prompt") if self.lines else 1
            try:
                return parse(text), (self.shown, first_line)
            except TemplateError as error:
                line = first_line + text[: error.offset].count("\n")
                # A multi-line string whose opening quotes end their line starts on the next.
                opening = self.text_lines[first_line - 1] if first_line <= len(self.text_lines) else ""
                if re.search(r"=\s*(\"\"\"|\'\'\')\s*$", opening):
                    line += 1
                raise self.fail(f"prompt: {error}", line=line) from None
        name = document["prompt_file"]
        if not isinstance(name, str) or not name:
            raise self.fail("prompt_file must be a file name", "prompt_file")
        prompt_path = self.path.parent / name
        try:
            data = read_start(prompt_path, MAX_PROMPT_FILE_BYTES)  # never a FIFO (it would hang)
        except OSError as error:
            raise self.fail(f"prompt_file {name!r}: {error.strerror or error}", "prompt_file") from None
        if len(data) > MAX_PROMPT_FILE_BYTES:
            raise self.fail(f"prompt_file {name!r} is larger than 1 MB", "prompt_file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"prompt_file {name!r} is not valid UTF-8", "prompt_file") from None
        try:
            return parse(text), (str(prompt_path), 1)
        except TemplateError as error:
            line = text[: error.offset].count("\n") + 1
            raise EvalFileError(str(prompt_path), line, str(error)) from None

    # -- request fields ---------------------------------------------------------------------

    def fields(self, table: Any, where: tuple[Hashable, ...], skip: tuple[str, ...] = ()) -> dict[str, Any]:
        if not isinstance(table, Mapping):
            raise self.fail(f"{where[0]} must be a table of request fields", *where)
        values: dict[str, Any] = {}
        for name, value in table.items():
            if name in skip:
                continue
            try:
                values[name] = check_value(spec_for(name), value)
            except FieldValueError as error:
                raise self.fail(str(error), *where, name) from None
        return values

    def request(
        self, overrides: dict[str, Any], defaults: Mapping[str, Any], where: tuple[Hashable, ...]
    ) -> CompletionRequest:
        """Built-ins + ``overrides``, validated; a broken rule points at the key that set it."""
        base = CompletionRequest(**BUILTIN_DEFAULTS)
        request = apply_overrides(apply_overrides(base, defaults), overrides)
        # The prompt is filled per case (always a string, always valid); check the rest now.
        problems = dataclasses.replace(request, prompt="-").validate()
        if problems:
            problem = problems[0]
            if problem.field in overrides:
                key: tuple[Hashable, ...] = (*where, problem.field)
            elif problem.field in defaults:
                key = ("defaults", problem.field)
            else:
                key = where  # a rule between fields (or a missing model): the table itself
            message = str(problem)
            if problem.field == "model" and "model" not in overrides and "model" not in defaults:
                message += " (set model in [defaults] or in every [[variants]])"
            raise self.fail(message, *key)
        return request

    def variants(self, table: Any, defaults: Mapping[str, Any]) -> tuple[Variant, ...]:
        if table is None:
            request = self.request({}, defaults, ("defaults",))
            return (Variant(DEFAULT_VARIANT_NAME, {}, request, 1),)
        if not isinstance(table, list) or not all(isinstance(v, Mapping) for v in table):
            raise self.fail("variants must be [[variants]] tables", "variants")
        if not table:
            raise self.fail("variants is empty: add a [[variants]] table or leave variants out", "variants")
        if len(table) > MAX_VARIANTS:
            raise self.fail(f"more than {MAX_VARIANTS} variants", "variants", MAX_VARIANTS)
        variants: list[Variant] = []
        seen: dict[str, int] = {}
        for index, entry in enumerate(table):
            where = ("variants", index)
            overrides = self.fields(entry, where, skip=("name",))
            name = entry.get("name")
            if name is None:
                name = ",".join(f"{k}={v}" for k, v in overrides.items()) or f"variant {index + 1}"
            if not isinstance(name, str) or not name.strip():
                raise self.fail("a variant's name must be a non-empty string", *where, "name")
            line = self.lines.line(*where) if self.lines else 1
            if name in seen:
                raise self.fail(
                    f"variant name {name!r} is already used on line {seen[name]}", *where, "name"
                )
            seen[name] = line
            request = self.request(overrides, defaults, where)
            variants.append(Variant(name, overrides, request, line))
        return tuple(variants)

    # -- assertions ---------------------------------------------------------------------------

    def assertion_specs(
        self, items: Any, where: tuple[Hashable, ...], origin: str | None, lines: list[int] | None = None
    ) -> list[tuple[AssertionSpec, str, int]]:
        """Parsed assertions with where each came from (``origin`` None: this TOML file)."""
        if not isinstance(items, list):
            raise self.fail_at(origin, lines[0] if lines else None, "assert must be a list of assertions", *where)
        specs: list[tuple[AssertionSpec, str, int]] = []
        for index, item in enumerate(items):
            line = lines[index] if lines else (self.lines.line(*where, index) if self.lines else 1)
            try:
                spec = parse_spec(item)
            except AssertionSpecError as error:
                if origin is None and error.key and self.lines:
                    line = self.lines.line(*where, index, error.key)
                raise self.fail_at(origin, line, str(error)) from None
            if spec.type == "regex" and not spec.variables:
                risk = regex_risk(spec.value)
                if risk is not None:
                    self.warnings.append(f"{origin or self.shown}:{line}: warning: regex {spec.value!r}: {risk}")
            specs.append((spec, origin or self.shown, line))
        return specs

    def fail_at(self, origin: str | None, line: int | None, message: str, *path: Hashable) -> EvalFileError:
        if origin is None:
            return self.fail(message, *path, line=line)
        return EvalFileError(origin, line or 1, message)

    # -- cases ------------------------------------------------------------------------------

    def raw_cases(self, document: Mapping[str, Any]) -> list[tuple[RawCase, str | None]]:
        """Every case as read: ``[[cases]]`` first, then the cases file's (with its name)."""
        found: list[tuple[RawCase, str | None]] = []
        table = document.get("cases", [])
        if not isinstance(table, list) or not all(isinstance(c, Mapping) for c in table):
            raise self.fail("cases must be [[cases]] tables", "cases")
        for index, entry in enumerate(table):
            where = ("cases", index)
            for key in entry:
                if key not in CASE_KEYS:
                    raise self.fail(f"unknown case key {key!r}{_suggest(key, CASE_KEYS)}", *where, key)
            name = entry.get("name")
            if name is not None and (not isinstance(name, str) or not name.strip()):
                raise self.fail("a case's name must be a non-empty string", *where, "name")
            variables = entry.get("vars", {})
            if not isinstance(variables, Mapping):
                raise self.fail("vars must be a table such as { text = \"Hello\" }", *where, "vars")
            values: dict[str, Any] = {}
            for key, value in variables.items():
                if isinstance(value, bool):
                    value = "true" if value else "false"
                elif isinstance(value, (int, float)):
                    value = str(value)
                if not isinstance(value, str):
                    raise self.fail(f"variable {key!r} must be a string or a number", *where, "vars", key)
                values[key] = value
            line = self.lines.line(*where) if self.lines else 1
            found.append((RawCase(name, values, line, entry.get("assert", [])), None))
        cases_file = document.get("cases_file")
        if cases_file is not None:
            if not isinstance(cases_file, str) or not cases_file:
                raise self.fail("cases_file must be a file name", "cases_file")
            path = self.path.parent / cases_file
            try:
                rows = read_cases_file(path)
            except CasesFileError as error:
                raise EvalFileError(str(path), error.line, str(error)) from None
            except OSError as error:
                raise self.fail(f"cases_file {cases_file!r}: {error.strerror or error}", "cases_file") from None
            found.extend((row, str(path)) for row in rows)
        if not found:
            raise self.fail("no cases: add [[cases]] tables or a cases_file", line=1)
        if len(found) > MAX_CASES:
            raise self.fail(f"more than {MAX_CASES:,} cases", "cases")
        return found

    def cases(
        self,
        raw_cases: list[tuple[RawCase, str | None]],
        template: Template,
        prompt_where: tuple[str, int],
        file_asserts: list[tuple[AssertionSpec, str, int]],
    ) -> tuple[Case, ...]:
        # Every variable the prompt and the file-level assertions use: where it is used.
        shared_uses: dict[str, tuple[str, str, int]] = {
            name: ("the prompt", *prompt_where) for name in template.variables
        }
        for spec, origin, line in file_asserts:
            for name in spec.variables:
                shared_uses.setdefault(name, ("the file-level assertion", origin, line))
        filled_somewhere: set[str] = set()
        for raw, _ in raw_cases:
            filled_somewhere.update(raw.vars)
        for name, (what, use_file, use_line) in shared_uses.items():
            if name not in filled_somewhere:
                case_file, case_line = self.case_location(*raw_cases[0])
                raise EvalFileError(
                    use_file,
                    use_line,
                    f"{{{{{name}}}}}, used by {what}, is filled by no case "
                    f"(the first case is at {case_file}:{case_line})",
                )
        cases: list[Case] = []
        names: dict[str, str] = {}
        for index, (raw, origin) in enumerate(raw_cases):
            where = ("cases", index) if origin is None else ()
            case_file, case_line = self.case_location(raw, origin)
            name = raw.name or f"case {index + 1}"
            if name in names:
                raise EvalFileError(
                    case_file, case_line, f"case name {name!r} is already used at {names[name]}"
                )
            names[name] = f"{case_file}:{case_line}"
            own = self.assertion_specs(raw.asserts, (*where, "assert"), origin, raw.assert_lines or None)
            for variable, (what, use_file, use_line) in shared_uses.items():
                if variable not in raw.vars:
                    raise EvalFileError(
                        case_file,
                        case_line,
                        f"case {name!r} does not fill {{{{{variable}}}}}, used by {what} "
                        f"at {use_file}:{use_line}",
                    )
            bound: list[Assertion] = []
            for spec, spec_file, spec_line in [*file_asserts, *own]:
                missing = [v for v in spec.variables if v not in raw.vars]
                if missing:
                    raise EvalFileError(
                        case_file,
                        case_line,
                        f"case {name!r} does not fill {{{{{missing[0]}}}}}, used by the assertion "
                        f"at {spec_file}:{spec_line}",
                    )
                try:
                    bound.append(bind(spec, raw.vars))
                except AssertionSpecError as error:
                    raise EvalFileError(spec_file, spec_line, f"case {name!r}: {error}") from None
            prompt = template.render(raw.vars)
            cases.append(Case(name, dict(raw.vars), prompt, tuple(bound), f"{case_file}:{case_line}"))
        return tuple(cases)

    def case_location(self, raw: RawCase, origin: str | None) -> tuple[str, int]:
        return (self.shown, raw.line) if origin is None else (origin, raw.line)


def load_eval(path: str | Path) -> EvalSpec:
    """Read and check an eval file; raises :class:`EvalFileError` (one line: file:line: why)."""
    return _Loader(Path(path)).load()


def load_eval_data(data: bytes, path: str | Path) -> EvalSpec:
    """Check the bytes of ``path`` already read by the caller (e.g. through a descriptor
    known to be a regular file); size and UTF-8 are checked as :func:`load_eval` does."""
    return _Loader(Path(path), data).load()


def load_eval_text(text: str, path: str | Path) -> EvalSpec:
    """Check eval-file text not (yet) saved as ``path``; files it names are read next to
    ``path``, as if it were saved there (the TUI's editor runs unsaved evals this way)."""
    return _Loader(Path(path), text.encode("utf-8", "surrogatepass")).load()
