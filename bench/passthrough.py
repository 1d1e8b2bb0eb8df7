"""The least a Python server can do to pass a download on: the ceiling for any proxy on this machine.

``python bench/passthrough.py PORT URL`` listens on 127.0.0.1:PORT and answers every GET by
fetching URL (a presigned S3 GET) and handing the response, headers and body, on as it arrives:
uvloop, one event loop, the bytes go from one socket's ``data_received`` straight into the
other's ``write``. No access check, no logging, no HTTP framework, no thread, no copy of its own.
``bench/transfer.py`` measures downloads through it next to the raw SDK GET: when even this
stays under a target, the machine (the cores the client, the storage and the proxy share), not
the application, sets the ratio. Prints ``ready`` once listening.
"""

from __future__ import annotations

import asyncio
import sys
from typing import cast
from urllib.parse import urlsplit

import uvloop

# Above this much unsent to the client, the storage is not read until the client catches up.
HIGH_WATER = 4 * 1024 * 1024
LOW_WATER = 1024 * 1024


class Upstream(asyncio.Protocol):
    """The storage's side: everything it sends goes to the client as it is."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but offer the same methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.client.send(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.upstream = None


class Client(asyncio.Protocol):
    """The downloading client's side: each request opens the URL anew (the storage's answer is
    closed by the storage, the client's connection stays open for its next request)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode()
        self.transport: asyncio.Transport | None = None
        self.upstream: Upstream | None = None
        self.received = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(high=HIGH_WATER, low=LOW_WATER)

    def data_received(self, data: bytes) -> None:
        self.received += data
        if b"\r\n\r\n" in self.received:
            self.received = b""
            asyncio.get_running_loop().create_task(self.fetch())

    async def fetch(self) -> None:
        loop = asyncio.get_running_loop()
        transport, upstream = await loop.create_connection(lambda: Upstream(self), self.host, self.port)
        self.upstream = upstream
        transport.write(self.request)

    def send(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def pause_writing(self) -> None:
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.close()


async def serve(port: int, url: str) -> None:
    server = await asyncio.get_running_loop().create_server(lambda: Client(url), "127.0.0.1", port)
    print("ready", flush=True)
    await server.serve_forever()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: passthrough.py PORT URL", file=sys.stderr)
        return 2
    uvloop.run(serve(int(argv[0]), argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
