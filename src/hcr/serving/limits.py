"""The upload limit, enforced before any parser runs (ServeLimits.max_upload_bytes).

uvicorn does not cap a request body, and a client may send no Content-Length (chunked), so the limit is checked
twice: on the declared length, then on the bytes that actually arrive. FastAPI's own `max_body_size` does both as
well, but answers a declared oversize body with a text/plain 413 that bypasses the app's error shape; this keeps
every error `{"detail": "…"}`, which the web page and API clients parse.
"""

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """ASGI middleware: a body over `max_bytes` gets 413; a body within it is read whole and handed on."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        n_bytes = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            n_bytes += len(chunks[-1])
            if n_bytes > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            more_body = message.get("more_body", False)
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit_mb = self.max_bytes / 1_000_000
        detail = f"the request body is larger than the upload limit ({limit_mb:g} MB)"
        await JSONResponse({"detail": detail}, status_code=413, headers={"Connection": "close"})(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the buffered body once, then defers to the server (for the disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
