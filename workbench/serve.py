"""The TUI in a browser: textual-serve's handlers behind an access token (no Textual here).

textual-serve starts one app process per browser tab (closing the tab ends it) and relays the
terminal over a websocket. On its own it answers anyone who can reach the port. Here every route
lives under a random path segment, ``/<token>/``, and anything else gets 403 — so the URL printed
at start is the only way in, and a page on another site cannot drive the app without it.
The API key stays in the app processes' environment; the browser only ever sees the screen.

textual-serve is an optional dependency (the ``serve`` extra); this module imports it lazily.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

# textual-serve's page asks Google for a web font; the workbench makes no request the user did
# not ask for, so the link is dropped (the page falls back to the browser's monospace font).
_REMOTE_FONT_LINK = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>", re.DOTALL)

FORBIDDEN_TEXT = (
    "403 forbidden: open the URL that `workbench serve` printed (it carries the access token)\n"
)


class ServeUnavailableError(RuntimeError):
    """textual-serve is not installed."""


def is_loopback_host(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A URL-safe secret with 192 bits of entropy."""
    return secrets.token_urlsafe(24)


def url_host(host: str) -> str:
    """``host`` as it goes in a URL (IPv6 addresses in brackets)."""
    try:
        if ipaddress.ip_address(host.strip("[]")).version == 6:
            return f"[{host.strip('[]')}]"
    except ValueError:
        pass
    return host


@dataclass
class ServeApp:
    """The aiohttp application that serves ``command`` to whoever holds ``token``."""

    command: str
    token: str
    title: str = "workbench"

    def build(self) -> Any:  # -> aiohttp.web.Application
        try:
            import aiohttp_jinja2
            import jinja2
            from aiohttp import web
            from textual_serve.server import Server
        except ImportError as error:  # pragma: no cover - exercised without the extra
            raise ServeUnavailableError(
                "workbench serve needs textual-serve: pip install 'cerebras-workbench[serve]' "
                "(from a clone: pip install -e '.[serve]')"
            ) from error

        # Server is used for its public request handlers; its own app factory would publish
        # the routes without a token, so the routes are laid out here.
        self.server = server = Server(self.command, title=self.title)
        prefix = f"/{self.token}"
        expected = self.token.encode()

        @web.middleware
        async def require_token(request: web.Request, handler: Any) -> web.StreamResponse:
            segment = request.path.lstrip("/").split("/", 1)[0]
            if not hmac.compare_digest(segment.encode("utf-8", "surrogateescape"), expected):
                return web.Response(status=403, text=FORBIDDEN_TEXT)
            response = await handler(request)
            # The token is in the path: keep it out of Referer headers to anyone else.
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            return response

        app = web.Application(middlewares=[require_token])
        loader = _OfflineTemplateLoader(str(server.templates_path))
        aiohttp_jinja2.setup(app, loader=loader)

        async def index_redirect(request: web.Request) -> web.StreamResponse:
            raise web.HTTPFound(f"{prefix}/")

        app.add_routes(
            [
                web.get(prefix, index_redirect),
                web.get(f"{prefix}/", server.handle_index, name="index"),
                web.get(f"{prefix}/ws", server.handle_websocket, name="websocket"),
                web.get(f"{prefix}/download/{{key}}", server.handle_download, name="download"),
                web.static(f"{prefix}/static", server.statics_path, name="static"),
            ]
        )
        return app

    def set_public_url(self, url: str) -> None:
        """Where the page tells the browser to connect back (known once the port is bound)."""
        self.server.public_url = url.rstrip("/")


def _offline_template_loader_class() -> Any:
    import jinja2

    class OfflineLoader(jinja2.FileSystemLoader):
        def get_source(self, environment: Any, template: str) -> Any:
            source, filename, uptodate = super().get_source(environment, template)
            return _REMOTE_FONT_LINK.sub("", source), filename, uptodate

    return OfflineLoader


def _OfflineTemplateLoader(path: str) -> Any:  # noqa: N802 - a factory standing for a class
    return _offline_template_loader_class()(path)


def quiet_logging() -> None:
    """textual-serve logs every connection at INFO; only problems go to stderr."""
    logging.getLogger("textual-serve").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
