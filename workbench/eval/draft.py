"""An eval being edited (the TUI's eval screen): plain data, turned into eval-file text.

The editor never validates by itself: :meth:`EvalDraft.to_toml` gives the text of an eval file
and :func:`workbench.eval.spec.load_eval_text` checks it with the same rules (and line numbers)
as ``workbench eval``, so the screen and the command cannot disagree about what is valid.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

import tomli_w

from workbench.api.fields import FieldValueError, parse_overrides
from workbench.eval.cases_file import RawCase
from workbench.eval.template import escape

VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@dataclass(slots=True)
class DraftCase:
    name: str
    vars: dict[str, str] = field(default_factory=dict)
    asserts: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class DraftVariant:
    name: str
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class EvalDraft:
    title: str = "Untitled eval"
    prompt: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    variants: list[DraftVariant] = field(default_factory=list)
    cases: list[DraftCase] = field(default_factory=list)
    asserts: list[dict[str, Any]] = field(default_factory=list)
    cases_file: str | None = None

    @classmethod
    def from_prompt(cls, prompt: str, defaults: dict[str, Any] | None = None) -> EvalDraft:
        """"Turn into template": the prompt as literal text (braces escaped), no cases yet."""
        return cls(prompt=escape(prompt), defaults=dict(defaults or {}))

    @property
    def variable_names(self) -> list[str]:
        """Every variable any case fills, in first-seen order (the table's columns)."""
        names: dict[str, None] = {}
        for case in self.cases:
            for name in case.vars:
                names.setdefault(name, None)
        return list(names)

    def mark_variable(self, start: int, end: int, name: str) -> None:
        """Replace ``prompt[start:end]`` by ``{{name}}``; the text becomes every case's value
        (a first case is made when there is none)."""
        if not VARIABLE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a variable name (letters, digits, _ . -; not starting with a digit)")
        if not 0 <= start < end <= len(self.prompt):
            raise ValueError("select the text that should become a variable first")
        value = self.prompt[start:end].replace("{{{{", "{{").replace("}}}}", "}}")
        self.prompt = self.prompt[:start] + "{{" + name + "}}" + self.prompt[end:]
        if not self.cases:
            self.cases.append(DraftCase("case 1"))
        for case in self.cases:
            case.vars.setdefault(name, value)

    def add_case(self) -> DraftCase:
        taken = {case.name for case in self.cases}
        number = len(self.cases) + 1
        while f"case {number}" in taken:
            number += 1
        case = DraftCase(f"case {number}", {name: "" for name in self.variable_names})
        self.cases.append(case)
        return case

    def import_cases(self, rows: list[RawCase]) -> int:
        for row in rows:
            taken = {case.name for case in self.cases}
            name = row.name or f"case {len(self.cases) + 1}"
            while name in taken:
                name += "′"
            self.cases.append(DraftCase(name, dict(row.vars), list(row.asserts)))
        return len(rows)

    # -- text forms the editor shows -------------------------------------------------------

    def variants_text(self) -> str:
        return "\n".join(
            f"{variant.name}: " + ",".join(f"{k}={_override_text(v)}" for k, v in variant.overrides.items())
            for variant in self.variants
        )

    def set_variants_text(self, text: str) -> None:
        """``name: field=value,field=value`` per line; a line without ``name:`` is named after
        its fields. Unknown fields and bad values raise FieldValueError naming the line."""
        variants = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, rest = line.partition(":")
            if not sep or "=" in name:
                name, rest = "", line
            try:
                overrides = parse_overrides(rest) if rest.strip() else {}
            except FieldValueError as error:
                raise FieldValueError(f"variants line {number}: {error}", error.field) from None
            variants.append(DraftVariant(name.strip() or rest.strip(), overrides))
        self.variants = variants

    # -- the eval file -----------------------------------------------------------------------

    def to_toml(self) -> str:
        doc: dict[str, Any] = {"schema_version": 1, "title": self.title, "prompt": self.prompt}
        if self.cases_file:
            doc["cases_file"] = self.cases_file
        if self.asserts:
            doc["assert"] = self.asserts
        if self.defaults:
            doc["defaults"] = {k: v for k, v in self.defaults.items() if v is not None}
        if self.variants:
            doc["variants"] = [{"name": v.name, **v.overrides} for v in self.variants]
        cases = []
        for case in self.cases:
            entry: dict[str, Any] = {"name": case.name, "vars": dict(case.vars)}
            if case.asserts:
                entry["assert"] = case.asserts
            cases.append(entry)
        if cases:
            doc["cases"] = cases
        return tomli_w.dumps(doc, multiline_strings=True)

    @classmethod
    def from_toml(cls, text: str) -> EvalDraft:
        """Lenient: whatever the file holds is shown for editing; checking happens on run/save."""
        doc = tomllib.loads(text)
        draft = cls(
            title=str(doc.get("title", "Untitled eval")),
            prompt=str(doc.get("prompt", "")),
            defaults=dict(doc.get("defaults", {})),
            asserts=list(doc.get("assert", [])),
            cases_file=doc.get("cases_file") if isinstance(doc.get("cases_file"), str) else None,
        )
        for index, variant in enumerate(doc.get("variants", [])):
            overrides = {k: v for k, v in variant.items() if k != "name"}
            draft.variants.append(DraftVariant(str(variant.get("name", f"variant {index + 1}")), overrides))
        for index, case in enumerate(doc.get("cases", [])):
            values = {str(k): str(v) for k, v in dict(case.get("vars", {})).items()}
            draft.cases.append(DraftCase(str(case.get("name", f"case {index + 1}")), values, list(case.get("assert", []))))
        return draft


def _override_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)


def asserts_to_text(asserts: list[dict[str, Any]]) -> str:
    """Assertions as the inline TOML a case's ``assert = [...]`` holds (for editing)."""
    if not asserts:
        return ""
    text = tomli_w.dumps({"a": asserts})
    # tomli_w writes an array of tables as [[a]] sections; re-read and write inline instead.
    return ", ".join(_inline(item) for item in tomllib.loads(text)["a"])


def _inline(table: dict[str, Any]) -> str:
    parts = []
    for key, value in table.items():
        rendered = tomli_w.dumps({"v": value}).strip()[len("v = ") :]
        parts.append(f"{key} = {rendered}")
    return "{ " + ", ".join(parts) + " }"


def text_to_asserts(text: str) -> list[dict[str, Any]]:
    """The inverse of :func:`asserts_to_text`; ValueError with TOML's message when invalid."""
    if not text.strip():
        return []
    try:
        items = tomllib.loads(f"a = [{text}]")["a"]
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"not a list of assertions: {error}") from None
    if not all(isinstance(item, dict) for item in items):
        raise ValueError('each assertion is a table: { type = "contains", value = "…" }')
    return items
