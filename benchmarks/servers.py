"""The benchmark's server: a seeded live-scale fake API, in this process or a child; its bound."""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any, Protocol

import httpx

from benchmarks import catalogue as synthetic
from benchmarks.params import Params, ServerModel
from djangopackages_sdk.testing import FakeAPI, LiveServer


# -- the server, in this process or in a child -----------------------------------------
class Server(Protocol):
    """What the benchmark needs from the server: its URL and the requests it received."""

    base_url: str

    def hits_since(self, mark: int) -> list[str]:
        """Paths (with query) of the requests received after the first ``mark`` ones."""
        ...

    def mark(self) -> int:
        """How many requests the server has received so far."""
        ...

    def peaks(self) -> dict[str, int]:
        """Observed maxima since the last :meth:`reset_peaks`: concurrency, busy workers."""
        ...

    def reset_peaks(self) -> None:
        """Start observing maxima afresh."""
        ...

    def close(self) -> None:
        """Stop the server."""
        ...


def _build_server(params: Params, model: ServerModel) -> LiveServer:
    data = synthetic.generate(params.packages, params.grids, params.categories, seed=params.seed)
    fake = FakeAPI(
        packages=data["packages"],
        grids=data["grids"],
        categories=data["categories"],
        base_url=synthetic.BASE_URL,
    )
    return LiveServer(
        fake,
        latency=model.latency,
        request_cost=model.request_cost,
        row_cost=dict(model.row_costs),
        workers=model.workers,
    )


class InProcessServer:
    """The LiveServer in this process (fast to start; its threads share the client's GIL)."""

    def __init__(self, params: Params, model: ServerModel) -> None:
        self.live = _build_server(params, model).start()
        self.base_url = self.live.base_url

    def mark(self) -> int:
        return len(self.live.hits)

    def hits_since(self, mark: int) -> list[str]:
        return [hit.path for hit in self.live.hits[mark:]]

    def peaks(self) -> dict[str, int]:
        return {
            "max_concurrency": self.live.max_concurrency,
            "max_busy_workers": self.live.max_busy_workers,
        }

    def reset_peaks(self) -> None:
        self.live.max_concurrency = 0
        self.live.max_busy_workers = 0

    def close(self) -> None:
        self.live.stop()


def _server_child(conn: Connection, params: Params, model: ServerModel) -> None:
    """The child process: serve until told to stop, answering questions about hits."""
    live = _build_server(params, model).start()
    conn.send(live.base_url)
    try:
        while True:
            command, argument = conn.recv()
            if command == "mark":
                conn.send(len(live.hits))
            elif command == "hits":
                conn.send([hit.path for hit in live.hits[argument:]])
            elif command == "peaks":
                conn.send(
                    {
                        "max_concurrency": live.max_concurrency,
                        "max_busy_workers": live.max_busy_workers,
                    }
                )
            elif command == "reset_peaks":
                live.max_concurrency = 0
                live.max_busy_workers = 0
                conn.send(None)
            else:
                break
    finally:
        live.stop()
        conn.send(None)


class ChildProcessServer:
    """The LiveServer in a child process: a separate GIL, like a real remote server."""

    def __init__(self, params: Params, model: ServerModel) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_server_child, args=(child, params, model), name="benchmark-server", daemon=True
        )
        self._process.start()
        if not self._conn.poll(120):
            self._process.kill()
            raise RuntimeError("the benchmark server did not start")
        self.base_url: str = self._conn.recv()

    def _ask(self, command: str, argument: int = 0) -> Any:
        self._conn.send((command, argument))
        return self._conn.recv()

    def mark(self) -> int:
        value: int = self._ask("mark")
        return value

    def hits_since(self, mark: int) -> list[str]:
        value: list[str] = self._ask("hits", mark)
        return value

    def peaks(self) -> dict[str, int]:
        value: dict[str, int] = self._ask("peaks")
        return value

    def reset_peaks(self) -> None:
        self._ask("reset_peaks")

    def close(self) -> None:
        if self._process.is_alive():
            self._ask("stop")
        self._process.join(30)


def lower_bound(rows: dict[str, int], round_trips: int, model: ServerModel) -> float:
    """max(fewest round trips x latency, server work / workers) + one request's cost.

    Server work: every row the task needs, at its collection's cost. No client is
    faster: whatever it asks, the work spreads over at most ``workers`` slots that
    cannot start before the first round trip, and the last request pays its own
    ``request_cost`` (at least one request's worth per worker). It ignores the
    client's own time (parsing the last page).
    """
    work = sum(count * model.row_cost(collection) for collection, count in rows.items())
    return max(round_trips * model.latency, work / model.workers) + model.request_cost


# -- the whole run ---------------------------------------------------------------------
def fetch_body(base_url: str, collection: str, rows: int) -> tuple[str, bytes]:
    url = f"{base_url}{collection}/?limit={max(1, rows)}"
    with httpx.Client(timeout=120) as http:
        response = http.get(url)
        response.raise_for_status()
    return url, response.content


def collection_count(base_url: str, collection: str) -> int:
    with httpx.Client(timeout=60) as http:
        response = http.get(f"{base_url}{collection}/?limit=1")
        response.raise_for_status()
    count: int = response.json()["count"]
    return count
