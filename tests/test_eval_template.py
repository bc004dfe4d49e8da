"""`{{name}}` templates: variables, the `{{{{` / `}}}}` escapes, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.eval.template import TemplateError, Variable, escape, parse


def test_variables_are_listed_once_in_order_and_filled() -> None:
    template = parse("Translate {{text}} into {{ language }}: {{text}}!")
    assert template.variables == ("text", "language")
    assert template.render({"text": "Hi", "language": "French"}) == "Translate Hi into French: Hi!"


@pytest.mark.parametrize(
    ("source", "rendered"),
    [
        ("{{{{literal}}}}", "{{literal}}"),
        ('JSON: {"a": {"b": 1} }', 'JSON: {"a": {"b": 1} }'),  # single braces are plain text
        ('JSON: {"a": {"b": 1}}}}', 'JSON: {"a": {"b": 1}}'),  # nested JSON closes with }}}}
        ("{{{x}}", "{X"),  # a literal brace right before a variable
        ("{{x}}}", "X}"),
        ("{{{{{{x}}}}}}", "{{X}}"),  # escaped braces around a variable
        ("", ""),
        ("no variables at all", "no variables at all"),
    ],
)
def test_escapes_and_single_braces(source: str, rendered: str) -> None:
    assert parse(source).render({"x": "X"}) == rendered


@pytest.mark.parametrize(
    ("source", "offset"),
    [
        ("Hello {{ name }", 6),  # not closed properly
        ("Hello {{}}", 6),  # no name
        ("{{1abc}}", 0),  # a name cannot start with a digit
        ("a }} b", 2),  # closes nothing
        ("{{x}}}}", 5),  # the variable closes, then a stray "}}"
        ("{{ two words }}", 0),
        ('{"a": {"b": 1}}', 13),  # nested JSON: "}}" must be written "}}}}"
    ],
)
def test_malformed_braces_are_errors_pointing_at_them(source: str, offset: int) -> None:
    with pytest.raises(TemplateError) as caught:
        parse(source)
    assert caught.value.offset == offset
    assert "literal" in str(caught.value)  # says how to write the braces literally


def test_a_missing_value_names_the_variable() -> None:
    with pytest.raises(KeyError, match="language"):
        parse("{{text}} {{language}}").render({"text": "x"})


# -- properties ------------------------------------------------------------------------------

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
literals = st.text(alphabet=st.sampled_from("ab{} \n\\"), max_size=12)
segments = st.lists(st.one_of(literals, names.map(Variable)), max_size=8)


@given(segments)
def test_escaped_literals_and_variables_round_trip(parts: list) -> None:
    merged: list = []
    for part in parts:  # adjacent literals are one literal (escaped as a whole)
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    parts = merged
    source = "".join(f"{{{{{p.name}}}}}" if isinstance(p, Variable) else escape(p) for p in parts)
    values = {p.name: f"<{p.name}>" for p in parts if isinstance(p, Variable)}
    expected = "".join(values[p.name] if isinstance(p, Variable) else p for p in parts)
    template = parse(source)
    assert template.render(values) == expected
    assert set(template.variables) == set(values)


@given(st.text(max_size=60))
def test_any_text_parses_or_fails_with_a_template_error(text: str) -> None:
    try:
        template = parse(text)
    except TemplateError as error:
        assert 0 <= error.offset < len(text)
        return
    # A text that parses renders back to itself when each variable is given its own syntax.
    values = {name: f"{{{{{name}}}}}" for name in template.variables}
    assert len(template.render(values)) <= len(text)


@given(st.text(max_size=60))
def test_escaped_text_is_always_literal(text: str) -> None:
    template = parse(escape(text))
    assert template.variables == ()
    assert template.render({}) == text
