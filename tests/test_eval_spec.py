"""Reading eval files: every mistake is one line naming the file and the line to fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from workbench.eval.spec import EvalFileError, load_eval

GOOD = """\
schema_version = 1
title = "French greetings"
prompt = "Translate into French: {{text}}\\nFrench:"

[defaults]
max_tokens = 20
temperature = 0

[[variants]]
name = "8b"
model = "llama3.1-8b"

[[variants]]
name = "32b"
model = "qwen-3-32b"
temperature = 0.2

[[cases]]
name = "hello"
vars = { text = "Hello" }
assert = [{ type = "contains", value = "Bonjour" }, { type = "max_tokens", value = 20 }]
"""


def write(tmp_path: Path, text: str, name: str = "eval.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(path: Path) -> EvalFileError:
    with pytest.raises(EvalFileError) as caught:
        load_eval(path)
    assert "\n" not in str(caught.value)
    return caught.value


def test_the_issue_example_loads_with_variants_as_requests(tmp_path: Path) -> None:
    spec = load_eval(write(tmp_path, GOOD))
    assert spec.title == "French greetings"
    assert [v.name for v in spec.variants] == ["8b", "32b"]
    small, large = (v.request for v in spec.variants)
    assert (small.model, small.temperature, small.max_tokens, small.stream) == ("llama3.1-8b", 0.0, 20, True)
    assert (large.model, large.temperature) == ("qwen-3-32b", 0.2)
    (case,) = spec.cases
    assert case.prompt == "Translate into French: Hello\nFrench:"
    assert [a.name for a in case.assertions] == ['contains "Bonjour"', "max_tokens 20"]


def test_prompt_file_and_cases_file_are_read_next_to_the_eval_file(tmp_path: Path) -> None:
    (tmp_path / "prompt.txt").write_text("Q: {{question}}\nA:", encoding="utf-8")
    (tmp_path / "cases.csv").write_text('question,__name,expected\n"2+2, please",sum,4\nCapital of France?,,Paris\n', encoding="utf-8")
    (tmp_path / "more.jsonl").write_text(
        '{"name": "j1", "vars": {"question": "x", "expected": "y"}, "assert": [{"type": "json_valid"}]}\n'
        "\n"
        '{"question": "flat", "expected": 3}\n',
        encoding="utf-8",
    )
    path = write(
        tmp_path,
        """\
        prompt_file = "prompt.txt"
        cases_file = "cases.csv"
        assert = [{ type = "contains", value = "{{expected}}", ignore_case = true }]
        [defaults]
        model = "llama3.1-8b"
        """,
    )
    spec = load_eval(path)
    assert [c.name for c in spec.cases] == ["sum", "cases.csv:3"]
    assert spec.cases[0].prompt == "Q: 2+2, please\nA:"
    assert spec.cases[1].assertions[0].name == 'contains "Paris" (ignore case)'
    assert [v.name for v in spec.variants] == ["default"]
    # A JSONL cases file: full cases and flat rows of variables.
    path.write_text(path.read_text().replace("cases.csv", "more.jsonl"))
    spec = load_eval(path)
    assert [c.name for c in spec.cases] == ["j1", "case 2"]
    assert [a.name for a in spec.cases[0].assertions] == ['contains "y" (ignore case)', "json_valid"]
    assert spec.cases[1].vars == {"question": "flat", "expected": "3"}


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        # TOML syntax: tomllib's own line.
        ('title = "French greetings"', "title = French", 2, "not valid TOML"),
        # Unknown keys, with the nearest name suggested.
        ("schema_version = 1", "schema_version = 1\ntitel = 'x'", 2, "unknown key 'titel' (did you mean 'title'?)"),
        ("name = \"hello\"", "name = \"hello\"\nvar = {}", 20, "unknown case key 'var' (did you mean 'vars'?)"),
        # Request fields: the registry's names and types, the request's rules.
        ("max_tokens = 20", "max_token = 20", 6, "unknown request field 'max_token' (did you mean 'max_tokens'?)"),
        ("temperature = 0.2", "temperature = 3.0", 16, "temperature: must be between 0 and 1.5"),
        ("temperature = 0.2", "temperature = 'hot'", 16, "temperature: must be a number"),
        ('name = "32b"', 'name = "8b"', 14, "variant name '8b' is already used on line 9"),
        # Assertions: the line of the assertion, the nearest type suggested.
        ('type = "contains"', 'type = "contain"', 21, "unknown assertion type 'contain' (did you mean 'contains'?)"),
        ('type = "contains", value = "Bonjour"', 'type = "regex", value = "(unclosed"', 21, "bad regex '(unclosed'"),
        ('type = "max_tokens", value = 20', 'type = "max_tokens", value = "20"', 21, "max_tokens needs a value: a whole number"),
        ('value = "Bonjour"', 'value = "Bonjour", ignore_cse = true', 21, "unknown assertion key 'ignore_cse' (did you mean 'ignore_case'?)"),
        # Templates.
        ('{{text}}\\nFrench:"', '{{text}\\nFrench:"', 3, "does not start a variable"),
        ('vars = { text = "Hello" }', 'vars = { txt = "Hello" }', 3, "{{text}}, used by the prompt, is filled by no case"),
        ('vars = { text = "Hello" }', 'vars = { text = ["a"] }', 20, "variable 'text' must be a string or a number"),
        ("schema_version = 1", "schema_version = 2", 1, "newer than this workbench"),
    ],
)
def test_mistakes_name_the_line(tmp_path: Path, old: str, new: str, line: int, expected: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    error = error_of(path)
    assert error.line == line, str(error)
    assert str(error).startswith(f"{path}:{line}: ")
    assert expected in str(error)


def test_a_variable_no_case_fills_names_the_variable_and_the_first_case(tmp_path: Path) -> None:
    text = GOOD.replace("{{text}}", "{{text}} ({{tone}})")
    error = error_of(write(tmp_path, text))
    assert error.line == 3
    assert "{{tone}}, used by the prompt, is filled by no case" in error.message
    assert "eval.toml:18" in error.message


def test_a_case_missing_a_variable_names_the_case_and_the_variable(tmp_path: Path) -> None:
    text = GOOD.replace("{{text}}", "{{text}} ({{tone}})") + textwrap.dedent(
        """
        [[cases]]
        name = "toned"
        vars = { text = "Bye", tone = "formal" }
        """
    )
    error = error_of(write(tmp_path, text))
    assert (error.line, error.message) == (18, "case 'hello' does not fill {{tone}}, used by the prompt at " + str(tmp_path / "eval.toml") + ":3")


def test_multiline_prompt_errors_point_inside_the_string(tmp_path: Path) -> None:
    text = GOOD.replace(
        'prompt = "Translate into French: {{text}}\\nFrench:"',
        'prompt = """\nTranslate into French:\n{{text}}\nFrench: }}\n"""',
    )
    error = error_of(write(tmp_path, text))
    assert error.line == 6, str(error)


def test_table_array_assertions_and_subtables_have_lines(tmp_path: Path) -> None:
    text = GOOD + textwrap.dedent(
        """
        [[cases]]
        name = "bye"
        [cases.vars]
        text = "Bye"
        [[cases.assert]]
        type = "contains"
        value = "Au revoir"
        [[cases.assert]]
        type = "finish_reasn"
        """
    )
    error = error_of(write(tmp_path, text))
    assert error.line == 31, str(error)
    assert "did you mean 'finish_reason'" in error.message


def test_cases_file_errors_name_that_file_and_its_line(tmp_path: Path) -> None:
    (tmp_path / "cases.csv").write_text("text,__nmae\nHello,a\n", encoding="utf-8")
    path = write(tmp_path, GOOD.replace('title = "French greetings"', 'cases_file = "cases.csv"'))
    assert str(error_of(path)).startswith(f"{tmp_path / 'cases.csv'}:1: unknown reserved column '__nmae'")
    (tmp_path / "cases.csv").write_text("text\nHello\n\nA,B\n", encoding="utf-8")
    assert str(error_of(path)).startswith(f"{tmp_path / 'cases.csv'}:4: 2 values for 1 columns")
    (tmp_path / "cases.csv").write_text("text,__name\nA,hello\n", encoding="utf-8")
    error = error_of(path)
    assert error.path.endswith("cases.csv") and error.line == 2
    assert "case name 'hello' is already used at" in error.message
    path.write_text(path.read_text().replace("cases.csv", "cases.jsonl"))
    (tmp_path / "cases.jsonl").write_text('{"text": "a"}\n{"text": \n', encoding="utf-8")
    assert str(error_of(path)).startswith(f"{tmp_path / 'cases.jsonl'}:2: not valid JSON")
    (tmp_path / "cases.jsonl").write_text('{"vars": {"text": "a"}, "assert": [{"type": "regexp"}]}\n', encoding="utf-8")
    assert str(error_of(path)).startswith(f"{tmp_path / 'cases.jsonl'}:1: unknown assertion type 'regexp' (did you mean 'regex'?)")


def test_file_level_assertion_with_a_variable_one_case_lacks(tmp_path: Path) -> None:
    text = GOOD.replace("[defaults]", 'assert = [{ type = "equals", value = "{{expected}}" }]\n\n[defaults]')
    text += '\n[[cases]]\nname = "b"\nvars = { text = "Bye", expected = "Au revoir" }\n'
    error = error_of(write(tmp_path, text))
    assert error.line == 20  # the case "hello" lacks it
    assert "does not fill {{expected}}, used by the file-level assertion at" in error.message


def test_missing_prompt_missing_model_and_no_cases(tmp_path: Path) -> None:
    assert "set exactly one of prompt and prompt_file" in str(error_of(write(tmp_path, GOOD.replace("prompt =", "# prompt ="))))
    no_model = GOOD.replace('model = "llama3.1-8b"\n', "")
    error = error_of(write(tmp_path, no_model))
    assert error.line == 9 and "model: a model id is required" in error.message
    assert "no cases" in str(error_of(write(tmp_path, GOOD.split("[[cases]]")[0])))


def test_unreadable_and_binary_files(tmp_path: Path) -> None:
    assert "cannot read" in str(error_of(tmp_path / "missing.toml"))
    path = tmp_path / "bin.toml"
    path.write_bytes(b'title = "x"\n\xff\xfe')
    assert str(error_of(path)).startswith(f"{path}:2: not valid UTF-8")


def test_hostile_nesting_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    assert str(error_of(path)) == f"{path}:1: not valid TOML: nested too deeply"


def test_jsonl_values_may_hold_unicode_line_separators(tmp_path: Path) -> None:
    (tmp_path / "cases.jsonl").write_text('{"text": "a\u2028b\u0085c"}\r\n{"text": "d"}\n', encoding="utf-8")
    path = write(tmp_path, GOOD.replace('title = "French greetings"', 'cases_file = "cases.jsonl"'))
    spec = load_eval(path)
    assert [c.vars["text"] for c in spec.cases] == ["Hello", "a\u2028b\u0085c", "d"]


def test_a_regex_that_may_backtrack_exponentially_is_a_warning_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('type = "contains", value = "Bonjour"', 'type = "regex", value = "^(\\\\w+\\\\s?)+$"'))
    spec = load_eval(path)  # still loads: a warning, not an error
    (warning,) = spec.warnings
    assert warning.startswith(f"{path}:21: warning: regex '^(\\\\w+\\\\s?)+$': nested unbounded repetition")
    assert load_eval(write(tmp_path, GOOD)).warnings == ()


@pytest.mark.parametrize("which", ["eval", "prompt_file", "cases_file"])
def test_a_fifo_named_anywhere_is_refused_not_waited_on(tmp_path: Path, which: str) -> None:
    """Opening a FIFO for reading waits for a writer: an eval file, its prompt_file or its
    cases_file that is one must be refused at once, with the file's name."""
    import os
    import threading

    names = {"eval": "eval.toml", "prompt_file": "prompt.txt", "cases_file": "cases.csv"}
    (tmp_path / "prompt.txt").write_text("Q: {{question}}", encoding="utf-8")
    (tmp_path / "cases.csv").write_text("question\nx\n", encoding="utf-8")
    path = tmp_path / "eval.toml"
    if which != "eval":
        write(tmp_path, 'prompt_file = "prompt.txt"\ncases_file = "cases.csv"\n[defaults]\nmodel = "m"\n')
    target = tmp_path / names[which]
    target.unlink(missing_ok=True)
    os.mkfifo(target)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_eval(path)
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - reported below
            outcome.append(error)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():
        with open(target, "wb"):  # let the blocked open return, then fail the test
            pass
        pytest.fail(f"load_eval waited on the FIFO named as {which}")
    assert isinstance(outcome[0], EvalFileError), outcome
    assert "FIFO" in str(outcome[0]) or "not a file" in str(outcome[0]), str(outcome[0])
