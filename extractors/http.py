"""The one polite HTTP client every source family fetches through.

Politeness lives here and nowhere else: an honest User-Agent, robots.txt, a per-host minimum delay,
retries with backoff that honour ``Retry-After``, conditional GET, a body size limit and a deadline per
answer (``timeout_s`` bounds each socket read, so a server dripping a byte at a time never trips it).
Failures are raised as the ``SourceError`` subclasses of ``extractors.records`` with messages an operator
can act on.

Sources are untrusted, so the client also keeps each request inside its source's ``CrawlScope``
(``foundation.scope``) and connects only to addresses the network guard allows (``extractors.netguard``).
Redirects are followed here, one hop at a time (at most ``MAX_REDIRECTS``), and each hop is checked like a
request of its own: scope, robots.txt of its host, the guard at connect time, and the feed key, which is
sent only to the origin of the source's ``url``.
Secrets (feed keys) are added here as a query parameter and redacted from every URL, message and log line.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urljoin, urlsplit, urlunsplit

import requests
import urllib3
from protego import Protego

from extractors.netguard import AddressPolicy, AddressRefused, guarded_session
from extractors.records import (
    BlockedByRobots,
    FetchError,
    OffScopeLink,
    OffScopeRedirect,
    RefusedAddress,
    RestrictedFeed,
    UnexpectedContent,
)
from foundation.scope import CrawlScope, place
from foundation.settings import Settings

log = logging.getLogger("clearinghouse.http")

Expect = Literal["json", "html", "xml", "text", "any"]

_RETRYABLE_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
_MAX_BACKOFF_S = 60.0
MAX_REDIRECTS = 10
"""Redirect hops followed for one request (robots.txt: ``_ROBOTS_MAX_REDIRECTS``, as RFC 9309 §2.3.1.2 asks)."""
_ROBOTS_MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK_BYTES = 16 * 1024
"""Small chunks bound how far a gzip bomb can decode past the limit before we notice."""
_ROBOTS_MAX_BYTES = 512 * 1024
"""RFC 9309 §2.5: crawlers may ignore robots.txt content past 500 KiB."""
_BOM_AND_SPACE = b"\xef\xbb\xbf \t\r\n"
_DRAIN_BYTES = 64 * 1024
"""The most of a body we do not keep (a 304, a redirect, an error page) that is read to keep its connection open:
a longer one closes the connection instead."""
_LEASE_WIDTH = 24
"""A lease file holds the wall time of the host's last request, padded to this width so it is rewritten in place."""


@dataclass(frozen=True)
class Response:
    """A fetched body and the metadata the raw archive keeps; ``url`` is safe to log and store."""

    url: str
    status: int
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    not_modified: bool
    attempts: int
    elapsed_s: float
    redirects: tuple[str, ...] = ()
    """Each URL a redirect led to, in order (redacted)."""
    location: str | None = None
    """The ``Location`` of a redirect answer, before it is followed (internal)."""


def _forms(secret: str) -> list[str]:
    """The ways a secret is written in URLs and bodies: as is, percent-encoded, and JSON-escaped."""
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1],
             secret.replace("/", "\\/")}  # fmt: skip
    return sorted(forms, key=len, reverse=True)


def redact(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` replaced by ``***``, also in the percent-encoded forms a URL carries it in."""
    if not secret:
        return text
    for form in _forms(secret):
        text = text.replace(form, "***")
    return text


def redact_body(body: bytes, secret: str | None) -> bytes:
    """A response body with the feed key replaced by ``***``: a source that echoes the request URL (a
    ``next`` link, an error page) would otherwise write the key into the raw archive."""
    if not secret:
        return body
    for form in _forms(secret):
        body = body.replace(form.encode(), b"***")
    return body


class _RedactSecrets(logging.Filter):
    """urllib3 logs each request line, query and all, at DEBUG: the keys this process sent are redacted there.

    A filter on a logger sees only that logger's own records, so it is added to each urllib3 logger that
    writes URLs. Keys are remembered for the life of the process: a log line may come after the request.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in list(self.secrets):
                message = redact(message, secret)
            record.msg, record.args = message, None
        return True


_URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager", "urllib3.connection")
_redact_secrets = _RedactSecrets()
for _name in _URLLIB3_LOGGERS:
    logging.getLogger(_name).addFilter(_redact_secrets)


def demo_rewrite(demo_url: str) -> Callable[[str], str]:
    """Map a real URL onto the demo snapshot server, which serves ``https://host/p?q`` as ``/host/p?q``."""
    base = demo_url.rstrip("/")

    def rewrite(url: str) -> str:
        return f"{base}/{url.partition('://')[2]}"

    return rewrite


class _GiveUp(Exception):
    """A request failed for good; the caller turns it into the error of its own source."""

    def __init__(self, message: str, error: type[FetchError] = FetchError, status: int | None = None):
        super().__init__(message)
        self.error = error
        self.status = status
        """The last HTTP status when the server answered, ``None`` when it could not be reached."""


class _TooSlow(Exception):
    """The body did not arrive within ``max_fetch_s``; ``received`` bytes had come by then."""

    def __init__(self, received: int):
        super().__init__(received)
        self.received = received


@dataclass(frozen=True)
class _Robots:
    """A host's robots.txt; ``parser`` is ``None`` when it could not be read (RFC 9309: disallow all).

    Protego matches as RFC 9309 §2.2.2 says: the longest rule wins and Allow wins a tie, so WordPress's
    default ``Disallow: /wp-admin/`` + ``Allow: /wp-admin/admin-ajax.php`` lets the Meeting Guide feed through
    (the standard library's parser applies the first rule that matches and blocks it)."""

    parser: Protego | None
    error: type[FetchError] = BlockedByRobots
    detail: str = ""


@dataclass
class _Host:
    """Per-host state (``host_of``: one server, whatever the scheme or port); ``lock`` serializes requests to
    the host so the delay between them holds. ``lease`` is the host's lease file, opened on its first request
    and kept open for the client's life (``_lease``): a turn then costs a ``flock`` and two small reads and
    writes, not an open, a directory check and a close."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    last_request: float | None = None
    lease: int | None = None


@dataclass
class _Origin:
    """robots.txt of one origin (RFC 9309: per scheme, host and port). ``robots_lock`` makes one thread read it
    while others wait; it is taken before, never while holding, a host's ``lock``, so reading robots.txt
    through redirects to other hosts cannot deadlock."""

    robots_lock: threading.Lock = field(default_factory=threading.Lock)
    robots: _Robots | None = None


class PoliteClient:
    """Fetches with one shared session; safe to use from several threads (one host at a time per host)."""

    def __init__(
        self,
        *,
        user_agent: str,
        min_delay_s: float = Settings.min_delay_s,
        timeout_s: float = Settings.timeout_s,
        max_retries: int = Settings.max_retries,
        backoff_s: float = Settings.backoff_s,
        max_body_bytes: int = Settings.max_body_bytes,
        rewrite: Callable[[str], str] | None = None,
        allow_private_addresses: bool = Settings.allow_private_addresses,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_retry_after_s: float = 120.0,
        lease_dir: Path | None = None,
        max_fetch_s: float = Settings.max_fetch_s,
    ):
        self._lease_dir = lease_dir
        self._user_agent = user_agent
        self._headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip"}
        self._min_delay_s = min_delay_s
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._backoff_s = backoff_s
        self._max_body_bytes = max_body_bytes
        self._rewrite = rewrite
        self._session = guarded_session(AddressPolicy(allow_private=allow_private_addresses))
        self._request_headers = {**self._session.headers, **self._headers}
        """The headers ``Session.request`` would send (the session's defaults, ours over them), merged once."""
        self._sleep = sleep
        self._clock = clock
        self._max_retry_after_s = max_retry_after_s
        self._max_fetch_s = max_fetch_s
        self._hosts: dict[str, _Host] = {}
        self._origins: dict[str, _Origin] = {}
        self._hosts_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> PoliteClient:
        """The client configured once from the environment; in demo mode every URL goes to the demo server."""
        return cls(
            user_agent=settings.user_agent,
            min_delay_s=settings.min_delay_s,
            timeout_s=settings.timeout_s,
            max_retries=settings.max_retries,
            backoff_s=settings.backoff_s,
            max_body_bytes=settings.max_body_bytes,
            rewrite=demo_rewrite(settings.demo_url) if settings.demo_url else None,
            allow_private_addresses=settings.allow_private_addresses,
            lease_dir=settings.home / "locks",
            max_fetch_s=settings.max_fetch_s,
        )

    def close(self) -> None:
        self._session.close()
        with self._hosts_lock:
            hosts = list(self._hosts.values())
        for host in hosts:
            with host.lock:
                if host.lease is not None:
                    os.close(host.lease)
                    host.lease = None

    def get(
        self,
        url: str,
        *,
        source_id: str,
        expect: Expect = "any",
        etag: str | None = None,
        last_modified: str | None = None,
        secret: str | None = None,
        secret_param: str = "key",
        min_delay_s: float | None = None,
        scope: CrawlScope | None = None,
    ) -> Response:
        """GET ``url`` politely; raise a ``FetchError`` subclass unless the answer is 2xx or 304.

        ``scope`` (default: the host of ``url``) bounds ``url`` and every redirect hop: a ``url`` outside it
        raises ``OffScopeLink`` before anything is sent, a hop outside it ``OffScopeRedirect``. ``secret`` is
        sent as the query parameter ``secret_param`` to the scope's key origin only, and never shown.
        ``expect="json"`` rejects an HTML page, which is what bot challenges and login walls send instead of
        the feed.
        """
        if place(url) is None:
            raise OffScopeLink(
                source_id, f"{redact(url, secret)} is not an absolute http(s) URL with a plain host; not requested"
            )
        scope = scope or CrawlScope.of(url)
        if not scope.allows(url):
            raise OffScopeLink(
                source_id,
                f"{redact(url, secret)} is outside the source's hosts ({scope.describe()}), so it was not "
                "requested; if the source really serves pages there, add the host to allowed_hosts",
            )
        if secret:
            _redact_secrets.secrets.add(secret)
        keyed = bool(secret) and scope.sends_key(url)
        target = _with_param(url, secret_param, secret) if keyed and secret else url
        first = redact(target, secret)
        delay = self._min_delay_s if min_delay_s is None else min_delay_s
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        hops: list[str] = []
        try:
            for _ in range(MAX_REDIRECTS + 1):
                response = self._request(target, source_id=source_id, secret=secret, headers=conditional,
                                         delay=delay, scope=scope)  # fmt: skip
                if response.location is None:
                    break
                target = self._next_hop(target, response.location, source_id=source_id, secret=secret, scope=scope)
                hops.append(redact(target, secret))
            else:
                raise FetchError(
                    source_id,
                    f"GET {first} redirected more than {MAX_REDIRECTS} times (a redirect loop); check the URL "
                    "in the registry; last good data is kept",
                )
        except _GiveUp as exc:
            raise exc.error(source_id, str(exc)) from None
        response = dataclasses.replace(response, url=first, redirects=tuple(hops))
        return _judge(response, source_id=source_id, expect=expect, keyed=keyed)

    def _next_hop(self, current: str, location: str, *, source_id: str, secret: str | None, scope: CrawlScope) -> str:
        """The URL a redirect leads to, once it is known to stay in scope and not to carry the key away."""
        following = urljoin(current, location.strip())
        shown, was = redact(following, secret), redact(current, secret)
        if place(following) is None:
            raise FetchError(
                source_id,
                f"GET {was} redirected to {shown}, which is not an http(s) URL with a plain host; not followed; "
                "last good data is kept",
            )
        if not scope.allows(following):
            raise OffScopeRedirect(
                source_id,
                f"GET {was} redirected to {shown}, outside the source's hosts ({scope.describe()}); not "
                "followed. If the source really moved there, update its url or add the host to allowed_hosts; "
                "last good data is kept",
            )
        if secret and not scope.sends_key(following):
            following = _without_secret(following, secret)
            if redact(following, secret) != following:
                raise OffScopeRedirect(
                    source_id,
                    f"GET {was} redirected to {redact(following, secret)}, another origin, with the feed key in "
                    "the URL; not followed: the key is sent only to the origin of the source's url",
                )
        return following

    def _request(
        self,
        url: str,
        *,
        source_id: str,
        secret: str | None,
        headers: Mapping[str, str],
        delay: float,
        scope: CrawlScope,
    ) -> Response:
        """One hop: robots.txt of its origin, then the request (with retries) under the host's lock and lease."""
        shown = redact(url, secret)
        self._check_robots(url, shown, source_id=source_id, delay=delay, scope=scope)
        with self._turn(url, delay) as host:
            return self._send(host, url, shown, source_id=source_id, secret=secret, headers=headers, delay=delay)

    @contextmanager
    def _turn(self, url: str, delay: float) -> Iterator[_Host]:
        """The host of ``url`` to ourselves: its lock in this process, its lease across processes."""
        name = host_of(url)
        with self._hosts_lock:
            host = self._hosts.setdefault(name, _Host())
        with host.lock, self._lease(host, name, delay):
            yield host

    def _check_robots(self, url: str, shown: str, *, source_id: str, delay: float, scope: CrawlScope) -> None:
        """Raise unless robots.txt allows ``url``; read once per origin, one thread at a time."""
        origin = _origin(url)
        with self._hosts_lock:
            state = self._origins.setdefault(origin, _Origin())
        with state.robots_lock:
            if state.robots is None:
                state.robots = self._read_robots(origin, source_id=source_id, delay=delay, scope=scope)
        robots = state.robots
        if robots.parser is None:
            what = "blocked by robots.txt" if robots.error is BlockedByRobots else "robots.txt unreachable"
            raise robots.error(
                source_id,
                f"{what}: {shown} was not requested because {origin}/robots.txt could not be read, "
                f"which RFC 9309 says to treat as disallow-all ({robots.detail})",
            )
        if not robots.parser.can_fetch(url, self._user_agent):
            raise BlockedByRobots(
                source_id,
                f"blocked by robots.txt: {shown}; {origin}/robots.txt disallows it for our user agent, "
                "so it was not requested; ask the site owner for access or disable the source",
            )

    def _read_robots(self, origin: str, *, source_id: str, delay: float, scope: CrawlScope) -> _Robots:
        """robots.txt of ``origin``, following up to five redirects inside the scope (RFC 9309 §2.3.1.2).

        An address the guard refuses is raised (the source fails for that reason, not for robots.txt)."""
        robots_url = f"{origin}/robots.txt"
        target = robots_url
        for _ in range(_ROBOTS_MAX_REDIRECTS + 1):
            try:
                with self._turn(target, delay) as host:
                    response = self._send(host, target, target, source_id=source_id, delay=delay,
                                          body_limit=_ROBOTS_MAX_BYTES, truncate=True)  # fmt: skip
            except _GiveUp as exc:
                if exc.error is RefusedAddress:
                    raise
                # A server that answers with errors is blocked by robots; one that cannot be reached is down.
                return _Robots(None, BlockedByRobots if exc.status is not None else FetchError, str(exc))
            if response.location is None:
                break
            following = urljoin(target, response.location.strip())
            if not scope.allows(following):
                return _Robots(None, BlockedByRobots, f"it redirects to {following}, outside the source's hosts")
            target = following
        else:
            return _Robots(None, BlockedByRobots, f"more than {_ROBOTS_MAX_REDIRECTS} redirects")
        if 200 <= response.status < 300:
            return _Robots(Protego.parse(response.body.decode("utf-8", errors="replace")))
        if 400 <= response.status < 500:
            return _Robots(Protego.parse(""))  # RFC 9309 §2.3.1.3: "unavailable" (any 4xx) means no restrictions
        return _Robots(None, BlockedByRobots, f"HTTP {response.status}")

    def _send(
        self,
        host: _Host,
        url: str,
        shown: str,
        *,
        source_id: str,
        delay: float,
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
        body_limit: int | None = None,
        truncate: bool = False,
    ) -> Response:
        """Request ``url`` (before rewrite) with retries; return the first answer that is not retried."""
        limit = self._max_body_bytes if body_limit is None else body_limit
        target = self._rewrite(url) if self._rewrite else url
        total = self._max_retries + 1
        started = self._clock()
        for attempt in range(1, total + 1):
            self._wait_turn(host, delay)
            attempt_started = self._clock()
            error: requests.RequestException | None = None
            try:
                status, answer, body, truncated = self._exchange(target, headers or {}, limit)
                outcome = str(status)
            except requests.RequestException as exc:
                status, answer, body, truncated = None, {}, b"", False
                error, outcome = exc, type(exc).__name__
            except AddressRefused as exc:
                raise _GiveUp(
                    f"GET {shown} was not sent: {exc}. The network guard refuses loopback, private, link-local "
                    "and cloud metadata addresses, so a source cannot reach internal services "
                    "(CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES=true lifts it for private addresses, for a local demo "
                    "or tests only); last good data is kept",
                    RefusedAddress,
                ) from None
            except _TooSlow as exc:
                raise _GiveUp(
                    f"GET {shown}: the answer was still arriving after {self._max_fetch_s:g} s ({exc.received} "
                    "bytes so far); the server is stalling or far too slow, so it was not retried; "
                    "last good data is kept (CLEARINGHOUSE_MAX_FETCH_S sets the limit)"
                ) from None
            host.last_request = self._clock()
            log.info(
                "%s GET %s -> %s, %d bytes, %.2f s, attempt %d/%d",
                source_id,
                shown,
                outcome,
                len(body),
                host.last_request - attempt_started,
                attempt,
                total,
            )
            if error is not None and not isinstance(error, _RETRYABLE_ERRORS):
                raise _GiveUp(f"GET {shown} failed: {_describe(error, secret)}; last good data is kept")
            if truncated and not truncate:
                raise _GiveUp(
                    f"GET {shown}: the body is larger than the limit of {limit} bytes (counted decoded); "
                    "if the feed really is that big, raise CLEARINGHOUSE_MAX_BODY_BYTES",
                    UnexpectedContent,
                )
            if status is not None and not _retryable(status):
                return Response(
                    url=shown,
                    status=status,
                    body=b"" if status == 304 else body,
                    content_type=answer.get("Content-Type", ""),
                    etag=answer.get("ETag"),
                    last_modified=answer.get("Last-Modified"),
                    not_modified=status == 304,
                    attempts=attempt,
                    elapsed_s=self._clock() - started,
                    location=answer.get("Location") if status in _REDIRECTS else None,
                )
            last = f"HTTP {status}" if error is None else _describe(error, secret)
            if attempt == total:
                break
            wait = min(self._backoff_s * 2 ** (attempt - 1), _MAX_BACKOFF_S)
            retry_after = _retry_after(answer.get("Retry-After")) if status in (429, 503) else None
            if retry_after is not None:
                if retry_after > self._max_retry_after_s:
                    raise _GiveUp(
                        f"GET {shown} answered HTTP {status} asking us to wait {retry_after:.0f} s "
                        f"(Retry-After), longer than the {self._max_retry_after_s:.0f} s we wait; "
                        "try again later; last good data is kept",
                        status=status,
                    )
                wait = retry_after
            if wait > 0:
                self._sleep(wait)
        raise _GiveUp(
            f"GET {shown} failed after {total} attempts (last: {last}); "
            "check the URL / the site may be down; last good data is kept",
            status=status,
        )

    @contextmanager
    def _lease(self, host: _Host, name: str, delay: float) -> Iterator[None]:
        """Per-host politeness across processes: Airflow workers sharing ``CLEARINGHOUSE_HOME`` take turns.

        An exclusive ``flock`` on ``locks/<host>.lock`` is held for the whole call (also when the delay is 0:
        one request at a time per host, whichever process sends it); the file keeps the wall time of the
        host's last request, so a worker waits out the delay another worker started. The file stays open
        between turns (``_Host.lease``; the caller holds ``host.lock``, so no two threads share a turn) and
        the lock is taken and released on it for each request, never held between them.
        """
        if self._lease_dir is None:
            yield
            return
        fd = self._locked_lease(host, self._lease_dir / (re.sub(r"[^a-z0-9.-]+", "_", name.lower()) + ".lock"))
        try:
            written = os.pread(fd, 64, 0)
            last = written.strip()
            if last and delay > 0:
                wait = float(last) + delay - time.time()
                if wait > 0:
                    self._sleep(min(wait, delay))
            try:
                yield
            finally:
                stamp = f"{time.time():.3f}".ljust(_LEASE_WIDTH).encode()
                os.pwrite(fd, stamp, 0)
                if len(written) > len(stamp):  # a longer text than ours was there: cut what is left of it
                    os.ftruncate(fd, len(stamp))
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    @staticmethod
    def _locked_lease(host: _Host, path: Path) -> int:
        """The host's lease file ``path``, open and locked. A file deleted or replaced since it was opened
        (``locks/`` cleared during a run) is opened again: a lock on a file other processes no longer find holds
        nothing."""
        while True:
            if host.lease is None:
                path.parent.mkdir(parents=True, exist_ok=True)
                host.lease = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            fcntl.flock(host.lease, fcntl.LOCK_EX)
            try:
                if os.stat(path).st_ino == os.fstat(host.lease).st_ino:
                    return host.lease
            except FileNotFoundError:
                pass
            fcntl.flock(host.lease, fcntl.LOCK_UN)
            os.close(host.lease)
            host.lease = None

    def _wait_turn(self, host: _Host, delay: float) -> None:
        if host.last_request is not None:
            wait = host.last_request + delay - self._clock()
            if wait > 0:
                self._sleep(wait)

    def _exchange(self, url: str, headers: Mapping[str, str], limit: int) -> tuple[int, Mapping[str, str], bytes, bool]:
        """One request: status, headers, the 2xx body cut at ``limit`` decoded bytes, and if it was cut.

        Raises ``_TooSlow`` when the body is still arriving ``max_fetch_s`` after the request started.
        """
        deadline = self._clock() + self._max_fetch_s
        # What Session.get(url, headers=…, stream=True, allow_redirects=False) sends, prepared here: requests would
        # merge the session's settings (its headers, params, hooks, proxies, verify) into every request anew, at a
        # cost comparable to the rest of a 304. The session has no settings of its own besides its headers
        # (trust_env is off: no proxies or netrc from the environment); its cookies are sent as requests would.
        prepared = requests.PreparedRequest()
        prepared.prepare(method="GET", url=url, headers={**self._request_headers, **headers},
                         cookies=self._session.cookies)  # fmt: skip
        with self._session.send(
            prepared, timeout=self._timeout_s, stream=True, allow_redirects=False, proxies={}
        ) as answer:
            body = bytearray()
            if 200 <= answer.status_code < 300:
                for chunk in _chunks(answer):
                    body += chunk
                    if len(body) > limit:
                        return answer.status_code, answer.headers, bytes(body[:limit]), True
                    if self._clock() > deadline:
                        raise _TooSlow(len(body))
                answer.raw.release_conn()  # read to its end: the connection serves the host's next request
            else:
                self._discard(answer, deadline)
            return answer.status_code, answer.headers, bytes(body), False

    def _discard(self, answer: requests.Response, deadline: float) -> None:
        """Read the body we do not keep (none for a 304), so its connection can serve the next request to the
        host (keep-alive: no new connection, no new name lookup, for each of a host's sources). A body longer
        than ``_DRAIN_BYTES``, slower than the fetch deadline, or broken is not read to its end: closing the
        answer then closes its connection, as before."""
        left = _DRAIN_BYTES
        try:
            while chunk := answer.raw.read1(_CHUNK_BYTES, decode_content=False):
                left -= len(chunk)
                if left < 0 or self._clock() > deadline:
                    return
        except (urllib3.exceptions.HTTPError, OSError):
            return
        answer.raw.release_conn()


def _chunks(answer: requests.Response) -> Iterator[bytes]:
    """The decoded body as it arrives: each chunk is what one socket read brought (at most ``_CHUNK_BYTES``).

    ``iter_content`` waits until a whole chunk has arrived, so a drip would never reach the deadline check.
    urllib3's errors become the requests errors ``iter_content`` raises, which ``_send`` knows how to treat.
    """
    try:
        while chunk := answer.raw.read1(_CHUNK_BYTES, decode_content=True):
            yield chunk
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc) from exc
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc


def _judge(response: Response, *, source_id: str, expect: Expect, keyed: bool) -> Response:
    """The response if it is usable; otherwise the error that tells the operator what to do."""
    status = response.status
    if status in (401, 403):
        fix = (
            "the key we sent was refused: check the key in the environment variable named by `auth`"
            if keyed
            else "the feed is restricted to key holders: set `auth: CLEARINGHOUSE_FEED_KEY_<NAME>` in the "
            "registry and put the key in that environment variable"
        )
        raise RestrictedFeed(source_id, f"GET {response.url} answered HTTP {status}; {fix}")
    if response.not_modified:
        return response
    if not 200 <= status < 300:
        raise FetchError(
            source_id,
            f"GET {response.url} answered HTTP {status} (not retried); check the URL in the registry; "
            "last good data is kept",
        )
    if expect == "json" and (
        response.body.lstrip(_BOM_AND_SPACE).startswith(b"<") or "text/html" in response.content_type.lower()
    ):
        raise UnexpectedContent(
            source_id,
            f"GET {response.url}: expected JSON but got an HTML page (often a bot challenge or login page); "
            "open the URL in a browser to see what the site serves",
        )
    return response


def _retryable(status: int) -> bool:
    return status == 429 or 500 <= status < 600


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta-seconds or HTTP date); ``None`` if absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _describe(error: Exception, secret: str | None) -> str:
    """An exception as text for operators; requests puts the full URL (with any key) into its messages."""
    return redact(f"{type(error).__name__}: {error}", secret)


def host_of(url: str) -> str:
    """The host a request's politeness counts against: its name in lower case, without scheme or port, since
    ``http://`` and ``https://`` (or two ports) of one name are one server to its operator."""
    return (urlsplit(url).hostname or "").lower()


def _origin(url: str) -> str:
    """``scheme://host[:port]`` as the URL writes it: whose robots.txt applies (RFC 9309 §2.3)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _without_secret(url: str, secret: str) -> str:
    """``url`` without the query parameters whose value is the secret (a redirect that echoes the key)."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if v != secret]
    if len(kept) == len(parse_qsl(parts.query, keep_blank_values=True)):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


def _with_param(url: str, name: str, value: str) -> str:
    """``url`` with the query parameter ``name`` set to ``value``; the rest of the query stays as written
    unless it already had ``name`` (a link from a redacted page: ``key=***``), which is replaced."""
    parts = urlsplit(url)
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(k == name for k, _ in pairs):
        query = urlencode([(k, v) for k, v in pairs if k != name])
    extra = urlencode({name: value})
    query = f"{query}&{extra}" if query else extra
    return urlunsplit(parts._replace(query=query))
