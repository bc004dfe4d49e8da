"""A compare group as one snippet that sends every variant (curl, Python SDK, httpx, JSON).

Built on :mod:`workbench.export` (same literals, same key handling: the key is read from the
environment, never written). The Python snippets send the lanes at once, as compare does; the
curl script sends them one after another (each block can be run on its own).
"""

from __future__ import annotations

import shlex
from typing import Sequence

from workbench.api.request import CompletionRequest
from workbench.sessions.model import Exchange
from workbench.export import (
    API_KEY_ENV,
    COMPLETIONS_PATH,
    EXPORT_FORMATS,
    SDK_CREATE_KWARGS,
    _json_text,
    _root_url,
    is_cerebras_url,
    python_literal,
    render_curl,
)


def _labels(requests: Sequence[CompletionRequest], labels: Sequence[str] | None) -> list[str]:
    if labels is not None and len(labels) == len(requests):
        return list(labels)
    return [f"lane {number}" for number in range(1, len(requests) + 1)]


def render_group_json(requests: Sequence[CompletionRequest], labels: Sequence[str] | None = None) -> str:
    """The bodies exactly as sent, one per lane, with each lane's label."""
    items = [
        {"label": label, "body": request.to_body()}
        for label, request in zip(_labels(requests, labels), requests)
    ]
    return _json_text(items, indent=2) + "\n"


def render_group_curl(
    requests: Sequence[CompletionRequest], base_url: str | None, labels: Sequence[str] | None = None
) -> str:
    lines = ["#!/bin/sh", "# One request per compare lane, one after another.", ""]
    for label, request in zip(_labels(requests, labels), requests):
        lines.append(f"echo {shlex.quote('=== ' + label + ' ===')}")
        lines.append(render_curl(request, base_url).rstrip("\n"))
        lines.append("echo")
        lines.append("")
    return "\n".join(lines)


def render_group_python(
    requests: Sequence[CompletionRequest], base_url: str | None, labels: Sequence[str] | None = None
) -> str:
    """The official SDK, one thread per lane so the variants run at once."""
    variants = []
    for label, request in zip(_labels(requests, labels), requests):
        body = request.to_body()
        variants.append(
            {
                "label": label,
                "arguments": {k: v for k, v in body.items() if k in SDK_CREATE_KWARGS},
                "extra_body": {k: v for k, v in body.items() if k not in SDK_CREATE_KWARGS},
            }
        )
    lines = [
        "import os",
        "from concurrent.futures import ThreadPoolExecutor",
        "",
        "from cerebras.cloud.sdk import Cerebras",
        "",
        "client = Cerebras(",
        f'    api_key=os.environ.get("{API_KEY_ENV}"),',
    ]
    if not is_cerebras_url(base_url):
        lines.append(f"    base_url={_json_text(_root_url(base_url))},")
    lines += [
        ")",
        f"variants = {python_literal(variants)}",
        "",
        "",
        "def send(variant):",
        '    arguments = variant["arguments"]',
        '    response = client.completions.create(**arguments, extra_body=variant["extra_body"] or None)',
        '    if not arguments.get("stream"):',
        '        return "\\n".join(choice.text or "" for choice in response.choices)',
        "    texts = {}",
        "    for chunk in response:",
        "        for choice in chunk.choices:",
        '            texts[choice.index] = texts.get(choice.index, "") + (choice.text or "")',
        '    return "\\n".join(texts[index] for index in sorted(texts))',
        "",
        "",
        "with ThreadPoolExecutor(len(variants)) as pool:",
        "    for variant, text in zip(variants, pool.map(send, variants)):",
        '        print(f"=== {variant[\'label\']} ===")',
        "        print(text)",
    ]
    return "\n".join(lines) + "\n"


def render_group_httpx(
    requests: Sequence[CompletionRequest], base_url: str | None, labels: Sequence[str] | None = None
) -> str:
    """Plain httpx with asyncio: every lane's request in flight at once."""
    url = _root_url(base_url) + COMPLETIONS_PATH
    variants = [
        {"label": label, "body": request.to_body()}
        for label, request in zip(_labels(requests, labels), requests)
    ]
    lines = [
        "import asyncio",
        "import json",
        "import os",
        "",
        "import httpx",
        "",
        f"url = {_json_text(url)}",
        f'headers = {{"Authorization": f"Bearer {{os.environ[\'{API_KEY_ENV}\']}}"}}',
        f"variants = {python_literal(variants)}",
        "",
        "",
        "async def send(client, body):",
        '    if not body.get("stream"):',
        "        response = await client.post(url, headers=headers, json=body, timeout=60.0)",
        "        response.raise_for_status()",
        '        return "\\n".join(c.get("text") or "" for c in response.json()["choices"])',
        "    texts = {}",
        '    async with client.stream("POST", url, headers=headers, json=body, timeout=60.0) as response:',
        "        response.raise_for_status()",
        "        async for line in response.aiter_lines():",
        "            # Server-sent events: one JSON chunk per data line, then data: [DONE].",
        '            data = line.removeprefix("data:").strip()',
        '            if not line.startswith("data:") or data == "[DONE]":',
        "                continue",
        "            chunk = json.loads(data)",
        '            if chunk.get("error"):',
        '                raise RuntimeError(chunk["error"])',
        '            for choice in chunk["choices"]:',
        '                index = choice["index"]',
        '                texts[index] = texts.get(index, "") + (choice.get("text") or "")',
        '    return "\\n".join(texts[index] for index in sorted(texts))',
        "",
        "",
        "async def main():",
        "    async with httpx.AsyncClient() as client:",
        '        texts = await asyncio.gather(*(send(client, v["body"]) for v in variants))',
        "    for variant, text in zip(variants, texts):",
        '        print(f"=== {variant[\'label\']} ===")',
        "        print(text)",
        "",
        "",
        "asyncio.run(main())",
    ]
    return "\n".join(lines) + "\n"


def render_group(
    requests: Sequence[CompletionRequest],
    fmt: str,
    base_url: str | None = None,
    labels: Sequence[str] | None = None,
) -> str:
    """Every lane's request as one ``fmt`` snippet (one of :data:`EXPORT_FORMATS`)."""
    if fmt == "json":
        return render_group_json(requests, labels)
    if fmt == "curl":
        return render_group_curl(requests, base_url, labels)
    if fmt == "python":
        return render_group_python(requests, base_url, labels)
    if fmt == "httpx":
        return render_group_httpx(requests, base_url, labels)
    raise ValueError(f"unknown export format {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}")


def group_snippet(exchanges: Sequence[Exchange], group: str, fmt: str, base_url: str | None) -> str:
    """The snippet for the saved compare group ``group``: every lane's request, in lane order."""
    lanes = sorted((e for e in exchanges if e.group == group), key=lambda e: e.lane or 0)
    labels = [f"lane {(e.lane or 0) + 1} · {e.lane_name}" for e in lanes]
    return render_group([e.request for e in lanes], fmt, base_url, labels)
