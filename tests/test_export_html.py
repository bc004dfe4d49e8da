"""The HTML export: one self-contained page, everything from the model escaped, probabilities
coloured with alternatives on hover — for sessions recorded against the simulator, and for
hostile text a model (or an edited session file) could hold."""

from __future__ import annotations

import asyncio
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cli_harness import clean_env, workbench
from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.api.logprobs import band, token_probs
from workbench.api.request import CompletionRequest
from workbench.api.types import Choice
from workbench.export_html import render_session_html
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import SessionStore
from workbench.sim import ThreadedSim

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p",
    "section", "dl", "dt", "dd", "pre", "span",
}
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</pre></section><script>x</script>",
    "' onmouseover='alert(1)",
    "<!-- comment --> & &amp; <style>body{display:none}</style>",
    "\x1b[31mred\x1b[0m",
]


class PageReader(HTMLParser):
    """Every tag and attribute on the page, and the text inside each <pre>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.pres: list[str] = []
        self._in_pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "pre":
            self._in_pre += 1
            self.pres.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_pre -= 1

    def handle_data(self, data: str) -> None:
        if self._in_pre:
            self.pres[-1] += data


def read(page: str) -> PageReader:
    reader = PageReader()
    reader.feed(page)
    reader.close()
    return reader


def assert_inert(reader: PageReader) -> None:
    for tag, attrs in reader.tags:
        assert tag in ALLOWED_TAGS, tag
        for name in attrs:
            assert not name.startswith("on"), (tag, name)
            assert name not in ("src", "href", "action", "srcset"), (tag, name)


def hostile_session(text: str) -> Session:
    session = Session.new(title=text, base_url="http://user:pw@127.0.0.1:9/v1")
    request = CompletionRequest(model=text or "m", prompt=text, stop=[text or "x"], user=text)
    logprobs = {
        "tokens": [text[: len(text) // 2], text[len(text) // 2 :]],
        "token_logprobs": [-0.01, -4.0],
        "top_logprobs": [{text: -0.01, "<b>": -5.0}, {"'\"": -0.2}],
    }
    exchange = Exchange(
        request=request,
        status="error",
        error=text,
        choices=[Choice(index=0, text=text, finish_reason=text, logprobs=logprobs)],
    )
    session.exchanges.append(exchange)
    return session


def test_hostile_text_is_shown_verbatim_and_never_markup() -> None:
    for text in HOSTILE:
        page = render_session_html(hostile_session(text))
        reader = read(page)
        assert_inert(reader)
        assert reader.pres == [text, text], text  # prompt, completion: exactly what was sent
        assert "user:pw" not in page


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_any_text_is_escaped(text: str) -> None:
    reader = read(render_session_html(hostile_session(text)))
    assert_inert(reader)
    # The HTML parser folds \r\n as a browser does; everything else survives.
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    assert [p.replace("\r\n", "\n").replace("\r", "\n") for p in reader.pres] == [normalised] * 2


def test_the_page_loads_nothing_and_needs_no_script() -> None:
    page = render_session_html(hostile_session("hello"))
    assert "<script" not in page
    assert "http://" not in page.replace("http://127.0.0.1:9/v1", "")
    assert "https://" not in page
    assert "default-src 'none'" in page


def test_llama_cpp_logprobs_are_read_too() -> None:
    llama = {
        "content": [
            {"id": 1, "token": "Hel", "logprob": -0.05, "bytes": [72, 101, 108],
             "top_logprobs": [{"id": 1, "token": "Hel", "logprob": -0.05},
                              {"id": 2, "token": "Hi", "logprob": -3.2}]},
            {"id": 3, "token": "lo", "logprob": -2.5, "top_logprobs": []},
        ]
    }
    tokens = token_probs(llama)
    assert tokens is not None
    assert [t.token for t in tokens] == ["Hel", "lo"]
    assert tokens[0].alternatives[1] == ("Hi", -3.2)
    assert tokens[0].token_bytes == (72, 101, 108)
    assert [band(t.probability) for t in tokens] == [0, 3]
    for junk in (None, [], {"tokens": "x"}, {"content": [1, {"token": 5}]}, {"tokens": [1, None]}):
        assert token_probs(junk) is None


def test_export_html_of_a_session_recorded_against_the_simulator(tmp_path: Path) -> None:
    """End to end: a real exchange with logprobs from the simulator, saved, exported by the CLI."""
    with ThreadedSim() as sim:

        async def call() -> object:
            endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
            async with CompletionClient(endpoint) as client:
                return await client.complete(request)

        request = CompletionRequest(
            model="llama3.1-8b", prompt="It was", max_tokens=12, logprobs=3, seed=7
        )
        result = asyncio.run(call())
    session = Session.new(title="probabilities")
    session.exchanges.append(Exchange.from_outcome(request, result))  # type: ignore[arg-type]
    SessionStore(tmp_path).save(session)
    run = workbench(
        "export", session.id, "--format", "html", "--sessions-dir", str(tmp_path),
        env=clean_env(tmp_path),
    )
    assert run.returncode == 0, run.stderr
    page = run.stdout.decode("utf-8")
    reader = read(page)
    assert_inert(reader)
    text = session.exchanges[0].choices[0].text
    assert reader.pres == ["It was", text]
    token_spans = [a for tag, a in reader.tags if tag == "span" and "tok" in (a.get("class") or "")]
    assert len(token_spans) >= 12  # every generated token, with its hover text
    assert all((a.get("title") or "").count("\n") >= 1 for a in token_spans[5:]), "alternatives"
    assert "Token probability" in page
