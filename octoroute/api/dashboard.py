"""``GET /dashboard``: one self-contained page that draws ``/stats`` in the browser.

The page is static: no data and no secret is in it, so a browser may load it
without a key (navigation cannot send ``Authorization``). Its script reads
``stats`` and ``stats/decisions`` next to its own URL with ``fetch``, sending
``Authorization: Bearer`` from ``sessionStorage`` when the server asks for a
key, so the figures stay behind the API key like every other API.

The Content-Security-Policy allows the page's one inline script and one
inline style by their SHA-256 hashes, computed here when the page is loaded,
and nothing else: no other origin, no inline handler, no frame.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources

import falcon

PAGE_NAME = "dashboard.html"
_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)
_STYLE = re.compile(rb"<style>(.*?)</style>", re.S)


def load_page() -> bytes:
    """The page as shipped in the package (``package_data`` in setup.cfg)."""
    return resources.files(__package__).joinpath(PAGE_NAME).read_bytes()


def _hashes(pattern: re.Pattern[bytes], page: bytes) -> str:
    found = pattern.findall(page)
    if not found:
        return "'none'"
    return " ".join("'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + "'"
                    for body in found)


def content_security_policy(page: bytes) -> str:
    """A policy that runs this page's own inline script and style, and fetches from itself only."""
    return "; ".join((
        "default-src 'none'",
        f"script-src {_hashes(_SCRIPT, page)}",
        f"style-src {_hashes(_STYLE, page)}",
        "connect-src 'self'",
        "img-src data:",  # the empty data: favicon, which spares a request for /favicon.ico
        "base-uri 'none'",
        "form-action 'none'",  # the key form is handled by the script, never submitted
        "frame-ancestors 'none'",
    ))


class DashboardResource:
    """Serves the dashboard page with its security headers."""

    def __init__(self, page: bytes | None = None) -> None:
        self._page = page if page is not None else load_page()
        self._etag = hashlib.sha256(self._page).hexdigest()[:32]
        self._headers = {
            "Content-Security-Policy": content_security_policy(self._page),
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            # Revalidate (the ETag makes that a 304), so an upgrade shows its new page at once.
            "Cache-Control": "no-cache",
        }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.set_headers(self._headers)
        resp.etag = self._etag
        if any(tag == self._etag or tag == "*" for tag in req.if_none_match or ()):
            resp.status = falcon.HTTP_304  # no body, so no Content-Type either
            return
        resp.content_type = "text/html; charset=utf-8"
        resp.data = self._page

    on_head = on_get
