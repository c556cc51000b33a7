"""An httpx2 transport that connects only to addresses a `TargetPolicy` checked.

httpx2 (like httpx) has no resolver hook, but it honours two documented
per-request knobs: the URL's host is where the socket connects, and the
``sni_hostname`` extension is the name TLS sends and verifies the certificate
against. So a request for ``https://example.com/`` goes out with the checked IP
as its URL host, ``Host: example.com`` (set by the client when the request was
built) and ``sni_hostname=example.com``: the name is never resolved again, and
certificate verification still checks the name, not the IP.

The transport fails closed: a request for any host it has not been given a
checked target for is refused before a socket is opened.
"""

from __future__ import annotations

import ssl

import httpx2

from servers.web_fetch._errors import FetchError
from servers.web_fetch._target import Target


def verifying_context(ca_file: str | None = None) -> ssl.SSLContext:
    """The system's trusted CAs (plus `ca_file`'s), with certificate and host name checks on."""
    context = httpx2.create_ssl_context(verify=True, trust_env=False)
    if ca_file is not None:
        context.load_verify_locations(cafile=ca_file)
    return context


class PinnedTransport(httpx2.AsyncBaseTransport):
    """Sends each request to the address pinned for its (scheme, host, port), and nowhere else."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        # trust_env=False: proxy variables would hand the name to a proxy to resolve.
        # No keep-alive: two names on one IP must not share a TLS session verified for one of them.
        self._inner = httpx2.AsyncHTTPTransport(
            verify=ssl_context,
            trust_env=False,
            retries=0,
            limits=httpx2.Limits(max_connections=1, max_keepalive_connections=0),
        )
        self._pins: dict[tuple[str, str, int], Target] = {}

    def pin(self, target: Target) -> None:
        """Allow requests for `target`'s URL, to be sent to its checked address."""
        self._pins[(target.url.scheme, target.host, target.port)] = target

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        default_port = 443 if url.scheme == "https" else 80
        target = self._pins.get((url.scheme, url.host, url.port or default_port))
        if target is None:
            raise FetchError(f"refusing to connect to {url.host}: it was not checked")
        extensions = dict(request.extensions)
        if str(target.address) != target.host:
            extensions["sni_hostname"] = target.host
        pinned = httpx2.Request(
            request.method,
            url.copy_with(host=str(target.address)),
            headers=request.headers,  # carries Host: <the name>
            stream=request.stream,
            extensions=extensions,
        )
        return await self._inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self._inner.aclose()
