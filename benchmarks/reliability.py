"""Reliability figures of a long-running client, on 127.0.0.1 (no internet):

* how long a sync ``catalog()`` takes to stop after SIGINT, and whether any request
  was sent afterwards or any SDK thread was left;
* how many requests a listing sends to a server whose pages all claim
  ``count=100000000``;
* how long ``get(..., deadline=3)`` takes to raise ``DeadlineExceededError`` against a
  server trickling its headers, and then its body, one byte a second.

Run from the repository root: ``python benchmarks/reliability.py`` (about 15 s).
Prints one JSON object. Times are single wall-clock measurements on a shared machine.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
import time
from typing import Any

import httpx

from djangopackages_sdk import Client, DeadlineExceededError
from djangopackages_sdk.testing import FakeAPI, LiveServer


def _fake(n: int) -> FakeAPI:
    fake = FakeAPI.with_sample_data()
    template = fake.packages[359]
    fake.add(
        *(
            dict(template, id=2000 + i, slug=f"pkg-{2000 + i}", title=f"Pkg {i}")
            for i in range(n - len(fake.packages))
        )
    )
    return fake


def stop_after_sigint() -> dict[str, Any]:
    """SIGINT 0.5 s into a catalog() whose requests each take 3 s."""
    with LiveServer(_fake(2000), latency=3.0) as live, Client(live.base_url) as client:
        fired: list[float] = []
        main = threading.main_thread().ident
        assert main is not None

        def fire() -> None:
            fired.append(time.monotonic())
            signal.pthread_kill(main, signal.SIGINT)

        threading.Timer(0.5, fire).start()
        try:
            client.catalog()
        except KeyboardInterrupt:
            stopped = time.monotonic()
        hits_at_stop = len(live.hits)
        time.sleep(1.0)
        late = [hit for hit in live.hits if hit.time > fired[0]]
        threads = [t.name for t in threading.enumerate() if t.name.startswith("djangopackages")]
        return {
            "stop_seconds": round(stopped - fired[0], 4),
            "requests_sent_after_sigint": len(late),
            "requests_arriving_after_stop": len(live.hits) - hits_at_stop,
            "sdk_threads_left": len(threads),
        }


def lying_count() -> dict[str, Any]:
    """Every page claims 100,000,000 rows and a next page; 450 rows exist."""
    fake = _fake(450)

    def handle(request: httpx.Request) -> httpx.Response:
        response = fake.handle(request)
        if "limit" not in request.url.params:
            return response
        data = json.loads(response.content)
        limit = int(request.url.params["limit"])
        offset = int(request.url.params.get("offset", 0))
        data["count"] = 100_000_000
        data["next"] = str(request.url.copy_merge_params({"offset": offset + limit}))
        return httpx.Response(200, json=data)

    with Client(http_client=httpx.Client(transport=httpx.MockTransport(handle))) as client:
        started = time.monotonic()
        rows = list(client.packages.list())
        return {
            "rows": len(rows),
            "requests": len(fake.requests),
            "seconds": round(time.monotonic() - started, 3),
        }


def _trickler(body: bool) -> tuple[socket.socket, threading.Event]:
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = server.accept()
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            if body:
                conn.sendall(head + b"Content-Length: 100000\r\n\r\n")
            data = b"[" * 100_000 if body else head + b"X-Pad: " + b"a" * 1000
            for index in range(len(data)):
                if stop.wait(1.0):
                    return
                conn.sendall(data[index : index + 1])

    threading.Thread(target=serve, daemon=True).start()
    return server, stop


def trickle(body: bool) -> dict[str, Any]:
    """``get(1, deadline=3)`` against a server sending one byte a second."""
    server, stop = _trickler(body)
    port = server.getsockname()[1]
    try:
        with Client(f"http://127.0.0.1:{port}/api/v4/", max_retries=0) as client:
            started = time.monotonic()
            try:
                client.packages.get(1, deadline=3)
                outcome = "answered"
            except DeadlineExceededError:
                outcome = "DeadlineExceededError"
            return {"outcome": outcome, "seconds": round(time.monotonic() - started, 3)}
    finally:
        stop.set()
        server.close()


def main() -> None:
    figures = {
        "sigint": stop_after_sigint(),
        "lying_count": lying_count(),
        "trickled_headers_deadline_3s": trickle(body=False),
        "trickled_body_deadline_3s": trickle(body=True),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
