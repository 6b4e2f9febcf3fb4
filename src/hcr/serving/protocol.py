"""uvicorn's HTTP protocol (httptools) with the connection-level bounds it lacks: a header timeout, a body timeout,
a cap on open connections, and a lingering close so a refused upload gets its 413 rather than a reset.

uvicorn has no timeout while a request arrives: its keep-alive timeout only covers the idle time between requests
and is cancelled by the first byte of the next one, so a client that trickles headers or a body (or connects and
says nothing) holds its connection, and its memory, for ever. ASGI middleware cannot help: it runs only once the
headers are complete. Hence this subclass, which every worker uses (`protocol_class(limits)`):

- header timeout: from connecting, or from the first byte after a response, the headers must be complete within
  `header_timeout_s`, else the connection is closed (with a 408 if part of a request came);
- body timeout: from the end of the headers, the body must be complete within `body_timeout_s`, else the request
  is cut off (408 if no response has started; the app sees a disconnect);
- connection cap: beyond `max_connections`, a new connection closes the one that has waited longest without a
  request under way (a slow or idle client), so a flood of slow clients cannot lock out new ones; if every
  connection has a request under way, the new one gets 503 and is closed;
- lingering close: a response sent before the request body was read (413 for an upload over the limit) is
  followed by a FIN, and the rest of the body is read and dropped (up to LINGER_MAX_BYTES or LINGER_S) before the
  socket is closed. Closing a socket with unread data makes the kernel send a reset, and a client that sends its
  whole body before reading (Python's http.client, curl without `Expect: 100-continue`) then loses the 413.
"""

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from hcr.serving.settings import ServeLimits

LINGER_S = 5.0
LINGER_MAX_BYTES = 32_000_000
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: %d\r\n"
    b"\r\n%s"
)
BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\nretry-after: 1\r\n"
    b"content-length: %d\r\n\r\n%s"
)


def protocol_class(limits: ServeLimits) -> type[HttpToolsProtocol]:
    """The protocol uvicorn should build for each connection (its `http` option), bound to these limits, with the
    bookkeeping of the connection cap shared by the connections of one server (one call per server)."""
    return type("BoundedHttpProtocol", (BoundedHttpProtocol,), {"limits": limits, "open_": {}, "idle_": {}})


def _json_response(template: bytes, detail: str) -> bytes:
    body = b'{"detail": "%s"}' % detail.encode("ascii")
    return template % (len(body), body)


class BoundedHttpProtocol(HttpToolsProtocol):
    """One HTTP/1.1 connection, with the bounds in the module docstring. The class attributes are set by
    protocol_class, for all the connections of one server: `open_` holds the connections not closed yet, oldest
    first; `idle_` those with no request under way, longest-waiting first (dicts: ordered, O(1) to add and remove, so
    the cap costs the same at any number of connections)."""

    limits: ServeLimits = ServeLimits()
    open_: ClassVar[dict["BoundedHttpProtocol", None]] = {}
    idle_: ClassVar[dict["BoundedHttpProtocol", None]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._received = False  # bytes of the current (not yet complete) request headers arrived
        self._lingering = False
        self._linger_left = LINGER_MAX_BYTES

    # ---------------------------------------------------------------- connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_LingeringTransport(transport, self))  # type: ignore[arg-type]
        self.open_[self] = None
        self.idle_[self] = None
        self._arm(self.limits.header_timeout_s, self._header_timeout)
        if len(self.open_) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._forget()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._drop(len(data))
            return
        if self._timer is None and self._between_requests():  # the next request begins on a kept-alive connection
            self._arm(self.limits.header_timeout_s, self._header_timeout)
        self._received = True
        super().data_received(data)

    # ---------------------------------------------------------------- request phases

    def on_headers_complete(self) -> None:
        self._disarm()
        self.idle_.pop(self, None)
        self._received = False
        super().on_headers_complete()
        self._arm(self.limits.body_timeout_s, self._body_timeout)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._between_requests() and not _raw(self.transport).is_closing():  # not a pipelined one started
            self.idle_.pop(self, None)
            self.idle_[self] = None  # the longest-waiting come first

    def _between_requests(self) -> bool:
        """No request under way: none yet, or the last one answered."""
        return self.cycle is None or self.cycle.response_complete

    # ---------------------------------------------------------------- timeouts and the cap

    def _arm(self, seconds: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _header_timeout(self) -> None:
        self._timer = None
        if self._received:
            self._close_with(_json_response(TIMEOUT_RESPONSE, "the request headers took too long to arrive"))
        else:  # nothing said at all: close quietly, as for an idle keep-alive connection
            self._abandon()

    def _body_timeout(self) -> None:
        self._timer = None
        cycle = self.cycle
        if cycle is None or not cycle.more_body:
            return
        cycle.disconnected = True  # the app's next receive() says the client went away; its response is dropped
        cycle.message_event.set()
        if not cycle.response_started:
            self._close_with(_json_response(TIMEOUT_RESPONSE, "the request body took too long to arrive"))
        else:
            self._abandon()

    def _make_room(self) -> None:
        """Over the cap: close the connection waiting longest with no request under way, or else this new one."""
        longest_waiting = next(iter(self.idle_))
        if longest_waiting is not self:
            longest_waiting._abandon()
        else:
            self._close_with(_json_response(BUSY_RESPONSE, "the server has too many connections; try again"))

    def _close_with(self, response: bytes) -> None:
        raw = _raw(self.transport)
        if not raw.is_closing():
            raw.write(response)
        self._abandon()

    def _abandon(self) -> None:
        """Close now, with no linger: the client is the one holding things up."""
        self._forget()
        _raw(self.transport).close()

    def _forget(self) -> None:
        """No timer, and out of the cap's bookkeeping: closed, or about to be."""
        self._disarm()
        self.open_.pop(self, None)
        self.idle_.pop(self, None)

    # ---------------------------------------------------------------- lingering close

    def body_unread(self) -> bool:
        """Whether the current request's body is still (partly) on its way: closing now would reset the client."""
        return not self._lingering and self.cycle is not None and self.cycle.more_body

    def linger(self) -> None:
        """Say we are done (FIN after the response), then read and drop what the client still sends, within bounds;
        the connection closes when the client closes its side, or at the bounds."""
        raw = _raw(self.transport)
        self._lingering = True
        raw.write_eof()
        raw.resume_reading()
        self._arm(LINGER_S, self._abandon)

    def _drop(self, n_bytes: int) -> None:
        self._linger_left -= n_bytes
        if self._linger_left < 0:
            self._abandon()


class _LingeringTransport:
    """The connection's transport as uvicorn's request cycle sees it: closing it while the request body is still on
    its way lingers (BoundedHttpProtocol.linger) instead; everything else goes straight to the real transport."""

    def __init__(self, transport: asyncio.Transport, protocol: BoundedHttpProtocol) -> None:
        self.raw = transport
        self._protocol = protocol

    def close(self) -> None:
        if self._protocol.body_unread() and not self.raw.is_closing() and self.raw.can_write_eof():
            self._protocol.linger()
        else:
            self.raw.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def _raw(transport: Any) -> asyncio.Transport:
    return transport.raw if isinstance(transport, _LingeringTransport) else transport
