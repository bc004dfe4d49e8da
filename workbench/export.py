"""A completion request as code the user can run elsewhere: curl, the official Python SDK,
plain httpx, or the raw JSON body. No Textual here (``workbench export`` is headless).

The API key is never written into a snippet: curl reads ``$CEREBRAS_API_KEY`` from the shell,
the Python snippets read ``os.environ``. The base URL is only spelled out where it has to be:
the SDK gets ``base_url=`` only for a server other than Cerebras (it otherwise uses its default,
or ``CEREBRAS_BASE_URL`` from the environment, like the SDK always does).
"""

from __future__ import annotations

import json
import math
import re
import shlex
from typing import Any, Literal
from urllib.parse import urlsplit

from workbench.api.fields import FIELD_NAMES
from workbench.api.request import CompletionRequest

ExportFormat = Literal["curl", "python", "httpx", "json"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("curl", "python", "httpx", "json")
# The language of each format, for pygments (lexer alias) and for a file name suffix.
FORMAT_LANGUAGE: dict[str, str] = {
    "curl": "bash",
    "python": "python",
    "httpx": "python",
    "json": "json",
}
FORMAT_SUFFIX: dict[str, str] = {"curl": ".sh", "python": ".py", "httpx": ".py", "json": ".json"}

DEFAULT_BASE_URL = "https://api.cerebras.ai"
API_KEY_ENV = "CEREBRAS_API_KEY"
COMPLETIONS_PATH = "/v1/completions"

# Keyword arguments of ``client.completions.create`` (cerebras-cloud-sdk 1.91) that are not
# fields of the workbench's request: they reach a snippet only from a saved request's ``extra``.
SDK_KWARGS_OUTSIDE_REGISTRY: frozenset[str] = frozenset(
    {
        "best_of", "frequency_penalty", "logit_bias", "presence_penalty", "prompt_cache_key",
        "reasoning_format", "stream_options", "suffix",
    }
)  # fmt: skip
# Every keyword argument of ``client.completions.create``: the prompt, every registry field
# (tests/test_export_render.py checks the installed SDK takes each one) and the SDK-only ones.
# Any other body field goes through ``extra_body=`` so the SDK sends exactly the same JSON.
SDK_CREATE_KWARGS: frozenset[str] = frozenset(
    {"prompt", *FIELD_NAMES, *SDK_KWARGS_OUTSIDE_REGISTRY}
)


def _root_url(base_url: str | None) -> str:
    """The server root without a trailing ``/v1`` (every path carries ``/v1/`` itself)."""
    url = (base_url or DEFAULT_BASE_URL).strip().rstrip("/")
    while url.endswith("/v1"):
        url = url[: -len("/v1")].rstrip("/")
    return url


def is_cerebras_url(base_url: str | None) -> bool:
    host = (urlsplit(_root_url(base_url)).hostname or "").lower()
    return host == "cerebras.ai" or host.endswith(".cerebras.ai")


def _body(request: CompletionRequest) -> dict[str, Any]:
    return request.to_body()


def _streams(request: CompletionRequest) -> bool:
    return bool(request.stream)


def _single_choice(request: CompletionRequest) -> bool:
    return request.choice_count == 1


# -- Python literals ---------------------------------------------------------------------------


def python_literal(value: Any, indent: int = 0) -> str:
    """``value`` (JSON-like data) as Python source, in the house style: double quotes, one
    item per line for containers that do not fit, trailing commas."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return f'float("{value}")'
        return repr(value)
    if isinstance(value, str):
        return _python_string(value)
    if isinstance(value, (list, tuple)):
        items = [python_literal(item, indent + 4) for item in value]
        return _container("[", "]", items, indent)
    if isinstance(value, dict):
        items = [
            f"{_python_string(str(key))}: {python_literal(item, indent + 4)}"
            for key, item in value.items()
        ]
        return _container("{", "}", items, indent)
    raise TypeError(f"cannot write {type(value).__name__} as a Python literal")


# Characters json.dumps(ensure_ascii=False) leaves raw that are invisible or dangerous on a
# terminal (DEL, the C1 controls — some terminals treat U+009B as CSI — and the Unicode line
# separators) or cannot be written as UTF-8 (lone surrogates). Escaped as \\uXXXX, which means
# the same thing in JSON and in Python source.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _json_text(value: Any, indent: int | None = None) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _python_string(text: str) -> str:
    # A JSON string is a valid Python string literal (same escapes, \\uXXXX included).
    return _json_text(text)


def _container(opening: str, closing: str, items: list[str], indent: int) -> str:
    if not items:
        return opening + closing
    flat = opening + ", ".join(items) + closing
    if len(flat) + indent <= 88 and "\n" not in flat:
        return flat
    pad = " " * (indent + 4)
    return opening + "\n" + "".join(f"{pad}{item},\n" for item in items) + " " * indent + closing


# -- the formats -------------------------------------------------------------------------------


def render_json(request: CompletionRequest, base_url: str | None = None) -> str:
    """The request body exactly as the workbench sends it, pretty-printed."""
    return _json_text(_body(request), indent=2) + "\n"


def render_curl(request: CompletionRequest, base_url: str | None = None) -> str:
    url = _root_url(base_url) + COMPLETIONS_PATH
    body = _json_text(_body(request), indent=2)
    lines = [
        f"curl {shlex.quote(url)}",
        '-H "Content-Type: application/json"',
        # Double quotes: the shell expands the variable, so the key itself is never written here.
        f'-H "Authorization: Bearer ${API_KEY_ENV}"',
    ]
    if _streams(request):
        lines.insert(1, "--no-buffer")  # print server-sent events as they arrive
    lines.append(f"--data-raw {shlex.quote(body)}")
    return " \\\n  ".join(lines) + "\n"


def _print_result_python(request: CompletionRequest, *, sdk: bool) -> list[str]:
    """Lines that print the completion text: attribute access for the SDK, dicts for httpx."""
    text = "choice.text" if sdk else 'choice["text"]'
    tokens = "choice.tokens" if sdk else 'choice["tokens"]'
    value = tokens if request.return_raw_tokens else text
    choices = "completion.choices" if sdk else 'completion["choices"]'
    if _single_choice(request):
        first = f"{choices}[0]"
        return [f"print({value.replace('choice', first, 1)})"]
    # Single quotes inside the f-string: Python < 3.12 cannot nest the same quote.
    index = "choice.index" if sdk else "choice['index']"
    return [
        f"for choice in {choices}:",
        f'    print(f"--- choice {{{index}}} ---")',
        f"    print({value})",
    ]


def _print_stream_python(
    request: CompletionRequest, indent: str, text: str, index: str
) -> tuple[list[str], list[str]]:
    """(lines inside the per-choice loop, lines after the stream) that print streamed text."""
    if _single_choice(request):
        return [f'{indent}print({text} or "", end="", flush=True)'], ["print()"]
    return (
        [f'{indent}texts[{index}] = texts.get({index}, "") + ({text} or "")'],
        [
            "for index in sorted(texts):",
            '    print(f"--- choice {index} ---")',
            "    print(texts[index])",
        ],
    )


def render_python(request: CompletionRequest, base_url: str | None = None) -> str:
    """The official ``cerebras-cloud-sdk``, in the style of the API reference's example."""
    body = _body(request)
    arguments = {key: value for key, value in body.items() if key in SDK_CREATE_KWARGS}
    extra = {key: value for key, value in body.items() if key not in SDK_CREATE_KWARGS}
    lines = [
        "import os",
        "",
        "from cerebras.cloud.sdk import Cerebras",
        "",
        "client = Cerebras(",
        f'    api_key=os.environ.get("{API_KEY_ENV}"),',
    ]
    if not is_cerebras_url(base_url):
        lines.append(f"    base_url={_python_string(_root_url(base_url))},")
    lines += [")", ""]
    target = "stream" if _streams(request) else "completion"
    lines.append(f"{target} = client.completions.create(")
    for key, value in arguments.items():
        lines.append(f"    {key}={python_literal(value, 4)},")
    if extra:
        lines.append(f"    extra_body={python_literal(extra, 4)},")
    lines += [")", ""]
    if _streams(request):
        inside, after = _print_stream_python(request, " " * 8, "choice.text", "choice.index")
        if not _single_choice(request):
            lines.append("texts: dict[int, str] = {}")
        lines += ["for chunk in stream:", "    for choice in chunk.choices:", *inside, *after]
    else:
        lines += _print_result_python(request, sdk=True)
    return "\n".join(lines) + "\n"


def render_httpx(request: CompletionRequest, base_url: str | None = None) -> str:
    """Plain httpx: no SDK, every header and the body in sight."""
    url = _root_url(base_url) + COMPLETIONS_PATH
    lines = ["import os", ""]
    if _streams(request):
        lines[0:0] = ["import json"]
    lines += [
        "import httpx",
        "",
        f"url = {_python_string(url)}",
        # os.environ[...] rather than .get(): a missing key fails here, not as a 401 later.
        f'headers = {{"Authorization": f"Bearer {{os.environ[\'{API_KEY_ENV}\']}}"}}',
        f"body = {python_literal(_body(request))}",
        "",
    ]
    if _streams(request):
        inside, after = _print_stream_python(
            request, " " * 12, 'choice.get("text")', 'choice["index"]'
        )
        if not _single_choice(request):
            lines.append("texts: dict[int, str] = {}")
        lines += [
            'with httpx.stream("POST", url, headers=headers, json=body, timeout=60.0) as response:',
            "    response.raise_for_status()",
            "    for line in response.iter_lines():",
            "        # Server-sent events: one JSON chunk per data line, then data: [DONE].",
            '        data = line.removeprefix("data:").strip()',
            '        if not line.startswith("data:") or data == "[DONE]":',
            "            continue",
            "        chunk = json.loads(data)",
            '        if chunk.get("error"):',
            '            raise RuntimeError(chunk["error"])',
            '        for choice in chunk["choices"]:',
            *inside,
            *after,
        ]
    else:
        lines += [
            "response = httpx.post(url, headers=headers, json=body, timeout=60.0)",
            "response.raise_for_status()",
            "completion = response.json()",
        ]
        lines += _print_result_python(request, sdk=False)
    return "\n".join(lines) + "\n"


RENDERERS = {
    "curl": render_curl,
    "python": render_python,
    "httpx": render_httpx,
    "json": render_json,
}


def render_export(request: CompletionRequest, fmt: str, base_url: str | None = None) -> str:
    """``request`` as a ``fmt`` snippet (one of :data:`EXPORT_FORMATS`) for ``base_url``."""
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise ValueError(
            f"unknown export format {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}"
        ) from None
    return renderer(request, base_url)
