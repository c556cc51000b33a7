"""One fetch: check, pin, request, follow redirects by hand, read under a cap, all under one deadline.

Each request goes through its host's circuit breaker (`servers._resilience`): a host whose
connections keep failing or timing out is refused at once for a while, without holding up
fetches from other hosts. A GET is a read, so a connection that fails or times out is retried
with backoff (stamina), within the fetch's deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import anyio
import httpx2
import stamina

from servers._resilience import BreakerGroup
from servers.web_fetch._body import decode_text, read_capped
from servers.web_fetch._errors import FetchError
from servers.web_fetch._extract import html_to_text_isolated
from servers.web_fetch._settings import WebFetchSettings
from servers.web_fetch._target import Resolver, Target, TargetPolicy, system_resolver
from servers.web_fetch._transport import PinnedTransport, verifying_context

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript", "application/rss+xml"})
# Worth another try: the connection, not the request, failed (a refused URL or a 404 is not retried).
_TRANSIENT = (httpx2.NetworkError, httpx2.TimeoutException, httpx2.RemoteProtocolError)
_ATTEMPTS = 3


def _host_is_failing(error: BaseException) -> bool:
    return isinstance(error, httpx2.TransportError)


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """What a fetch produced."""

    final: Target
    status: int
    content_type: str | None
    title: str | None
    text: str
    truncated: bool
    body_bytes: int
    redirects: tuple[str, ...]
    fetched_at: datetime
    as_of: datetime
    last_modified: datetime | None


class Fetcher:
    """Fetches public web pages as text, refusing anything the address and host rules refuse."""

    def __init__(self, settings: WebFetchSettings, resolver: Resolver = system_resolver) -> None:
        self._settings = settings
        self._policy = TargetPolicy(settings, resolver)
        # Loading CA certificates takes tens of milliseconds: once per server, not per fetch.
        ca_file = None if settings.ca_file is None else str(settings.ca_file)
        self._ssl_context = verifying_context(ca_file)
        self._hosts = BreakerGroup(lambda host: f"web server {host}", is_failure=_host_is_failing)

    async def fetch(self, url: str, max_bytes: int) -> FetchedPage:
        """GET `url` (following up to `max_redirects` redirects, each checked) and return its text.

        Raises:
            FetchError: the URL or a redirect is refused, the fetch failed, the content is
                not text, or the deadline passed.
        """
        timeout = self._settings.timeout_seconds
        try:
            with anyio.fail_after(timeout):
                return await self._fetch(url, max_bytes)
        except TimeoutError:
            raise FetchError(f"the fetch took longer than {timeout:g} seconds and was stopped") from None
        except httpx2.TimeoutException:
            raise FetchError(f"the server did not answer within {timeout:g} seconds") from None
        except httpx2.ConnectError as error:
            raise FetchError(f"could not connect: {_short(error)}") from None
        except httpx2.HTTPError as error:
            raise FetchError(f"the fetch failed: {_short(error)}") from None

    async def _fetch(self, url: str, max_bytes: int) -> FetchedPage:
        settings = self._settings
        transport = PinnedTransport(self._ssl_context)
        headers = {
            "User-Agent": settings.user_agent,
            "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
            "Accept-Encoding": "gzip, deflate",
        }
        async with httpx2.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            headers=headers,
            timeout=settings.timeout_seconds,
        ) as client:
            redirects: list[str] = []
            next_url: str | httpx2.URL = url
            while True:
                target = await self._policy.check(next_url)
                transport.pin(target)
                request = client.build_request("GET", target.url)
                response = await self._send(client, request, target)
                try:
                    location = response.headers.get("location")
                    if response.status_code not in _REDIRECTS or not location:
                        return await self._page(target, response, max_bytes, tuple(redirects))
                    try:
                        next_url = target.url.join(location)
                    except httpx2.InvalidURL:
                        raise FetchError("the server redirected to a malformed URL") from None
                    if len(redirects) >= settings.max_redirects:
                        raise FetchError(
                            f"too many redirects (more than {settings.max_redirects}); the last one pointed to {next_url}"
                        )
                    redirects.append(str(target.url))
                finally:
                    await response.aclose()

    async def _send(self, client: httpx2.AsyncClient, request: httpx2.Request, target: Target) -> httpx2.Response:
        breaker = self._hosts[target.host]
        retries = stamina.retry_context(
            on=_TRANSIENT, attempts=_ATTEMPTS, timeout=self._settings.timeout_seconds, wait_initial=0.1, wait_max=1.0
        )
        async for attempt in retries:
            with attempt, breaker.guard():
                return await client.send(request, stream=True)
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    async def _page(
        self, target: Target, response: httpx2.Response, max_bytes: int, redirects: tuple[str, ...]
    ) -> FetchedPage:
        fetched_at = datetime.now(UTC)
        content_type = response.headers.get("content-type")
        media_type = (content_type or "").split(";")[0].strip().lower()
        is_html = media_type in _HTML_TYPES
        is_text = not media_type or media_type.startswith("text/") or media_type in _TEXT_TYPES
        if not (is_html or is_text or media_type.endswith(("+json", "+xml"))):
            raise FetchError(f"the response is {media_type}, not text or HTML; fetch_url only returns readable text")
        body = await read_capped(response, max_bytes)
        if not is_html and b"\0" in body.data[:1024]:
            raise FetchError("the response is binary, not text or HTML; fetch_url only returns readable text")
        text = decode_text(body.data, content_type, is_html=is_html)
        title: str | None = None
        if is_html:
            page = await html_to_text_isolated(text, str(target.url), cpu_seconds=self._settings.timeout_seconds)
            title, text = page.title, page.text
        return FetchedPage(
            final=target,
            status=response.status_code,
            content_type=content_type,
            title=title,
            text=text,
            truncated=body.truncated,
            body_bytes=len(body.data),
            redirects=redirects,
            fetched_at=fetched_at,
            as_of=fetched_at - _age(response),
            last_modified=_http_date(response.headers.get("last-modified")),
        )


def _age(response: httpx2.Response) -> timedelta:
    """How long a cache had held this response (RFC 9111 ``Age``); zero when absent or malformed."""
    value = (response.headers.get("age") or "").strip()
    return timedelta(seconds=int(value)) if value.isdigit() and len(value) <= 10 else timedelta(0)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _short(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 200 else text[:200] + "…"
