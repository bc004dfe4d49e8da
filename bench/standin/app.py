"""A minimal streaming Textual app: the design's recommended technique, as a baseline.

Run: ``python bench/standin/app.py --base-url URL [--max-tokens N] [--widget textarea|log]``.
ctrl+j sends the prompt; deltas are buffered and flushed into a read-only TextArea (or a Log)
at most once per frame, and once more the moment the stream ends.
"""

from __future__ import annotations

import argparse
import json

import httpx
from textual import work
from textual.app import App, ComposeResult
from textual.widgets import Log, TextArea


class StandInApp(App[None]):
    BINDINGS = [("ctrl+j", "send", "Send")]
    CSS = "#output { height: 1fr; } #prompt { height: 6; }"

    def __init__(self, base_url: str, max_tokens: int, widget: str = "textarea") -> None:
        super().__init__()
        self.widget = widget
        self.base_url = base_url
        self.max_tokens = max_tokens
        self.pending: list[str] = []

    def compose(self) -> ComposeResult:
        if self.widget == "log":
            yield Log(id="output")
        else:
            yield TextArea(id="output", read_only=True, soft_wrap=True)
        yield TextArea(id="prompt")

    def on_mount(self) -> None:
        self.query_one("#prompt").focus()
        self.set_interval(1 / 60, self.flush)

    def flush(self) -> None:
        if self.pending:
            text, self.pending = "".join(self.pending), []
            output = self.query_one("#output")
            if isinstance(output, Log):
                output.write(text)  # follows the end by itself
            else:
                output.insert(text, output.document.end)
                output.scroll_end(animate=False)

    def action_send(self) -> None:
        self.stream(self.query_one("#prompt", TextArea).text)

    @work(exclusive=True)
    async def stream(self, prompt: str) -> None:
        body = {"model": "llama3.1-8b", "prompt": prompt, "max_tokens": self.max_tokens,
                "min_tokens": self.max_tokens, "stream": True}
        async with httpx.AsyncClient(timeout=60) as client:
            async with client.stream("POST", self.base_url + "/v1/completions", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        for choice in json.loads(line[6:])["choices"]:
                            self.pending.append(choice.get("text") or "")
        self.flush()  # the end of the stream is shown at once, not at the next frame


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--max-tokens", type=int, default=20000)
    parser.add_argument("--widget", choices=("textarea", "log"), default="textarea")
    args = parser.parse_args()
    StandInApp(args.base_url, args.max_tokens, args.widget).run()
