"""The LiveServer itself: a FakeAPI over real HTTP on 127.0.0.1, with injectable faults."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from djangopackages_sdk.testing import FakeAPI, Fault, Hit, LiveServer


def _server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("LiveServer")]


def _drain(sock: socket.socket) -> None:
    while sock.recv(1024):
        pass


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with LiveServer(FakeAPI.with_sample_data()) as live:
        yield live


def test_serves_the_fake_with_links_on_its_own_host(server: LiveServer) -> None:
    assert server.base_url == f"http://127.0.0.1:{server.port}/api/v4/"
    with httpx.Client() as http:
        response = http.get(server.base_url + "packages/?limit=2")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    page = response.json()
    assert page["count"] == 5
    assert [row["id"] for row in page["results"]] == [1867, 1672]
    assert page["next"] == server.base_url + "packages/?limit=2&offset=2"
    assert page["results"][0]["category"] == server.base_url + "categories/1/"
    # Byte for byte what the fake answers for the same request.
    expected = server.fake.handle(httpx.Request("GET", server.base_url + "packages/?limit=2"))
    assert response.content == expected.content


def test_hits_record_method_path_number_and_time(server: LiveServer) -> None:
    with httpx.Client() as http:
        http.get(server.base_url + "grids/?offset=3&limit=2")
        http.head(server.base_url + "packages/1867/")
        http.get(server.base_url + "nope/")
    assert [(h.method, h.path, h.number) for h in server.hits] == [
        ("GET", "/api/v4/grids/?offset=3&limit=2", 1),
        ("HEAD", "/api/v4/packages/1867/", 2),
        ("GET", "/api/v4/nope/", 3),
    ]
    assert server.hits[0].time <= server.hits[1].time <= server.hits[2].time
    first = server.hits[0]
    assert first.route == "/api/v4/grids/"
    assert first.params == {"offset": "3", "limit": "2"}
    assert first.is_list()
    assert first.is_list("grids")
    assert not first.is_list("packages")
    assert first.window() == range(3, 5)
    assert not server.hits[1].is_list()


@pytest.mark.parametrize(
    ("query", "window"),
    [
        ("", range(0, 20)),
        ("?limit=5", range(0, 5)),
        ("?limit=0&offset=7", range(7, 27)),
        ("?limit=-3&offset=-1", range(0, 20)),
        ("?limit=x&offset=40", range(40, 60)),
    ],
)
def test_hit_window_uses_the_api_defaults(query: str, window: range) -> None:
    hit = Hit("GET", f"/api/v4/packages/{query}", 1, 0.0)
    assert hit.window() == window


def test_head_answers_the_get_length_without_a_body(server: LiveServer) -> None:
    with httpx.Client() as http:
        got = http.get(server.base_url + "packages/1867/")
        head = http.head(server.base_url + "packages/1867/")
        again = http.get(server.base_url + "packages/1867/")  # connection still in sync
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    assert again.content == got.content
    assert server.connections == 1


def test_hundreds_of_sequential_keep_alive_requests_share_one_connection(
    server: LiveServer,
) -> None:
    with httpx.Client() as http:
        bodies = {
            http.get(server.base_url + f"packages/?limit=1&offset={i % 5}").text for i in range(300)
        }
    assert len(bodies) == 5
    assert len(server.hits) == 300
    assert [hit.number for hit in server.hits] == list(range(1, 301))
    assert server.connections == 1
    assert server.errors == []


def test_hundreds_of_concurrent_requests_from_threads(server: LiveServer) -> None:
    with httpx.Client(limits=httpx.Limits(max_connections=16)) as http:

        def fetch(i: int) -> int:
            return http.get(server.base_url + f"packages/?limit=2&offset={i % 7}").status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(fetch, range(400)))
    assert statuses == [200] * 400
    assert len(server.hits) == 400
    assert sorted(hit.number for hit in server.hits) == list(range(1, 401))
    assert 1 <= server.connections <= 16
    assert 1 <= server.max_concurrency <= 16


async def test_hundreds_of_concurrent_requests_from_asyncio(server: LiveServer) -> None:
    gate = asyncio.Semaphore(8)  # httpx's pool handles hundreds of waiters slowly

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=8)) as http:

        async def fetch(gid: int) -> httpx.Response:
            async with gate:
                return await http.get(server.base_url + f"grids/{gid}/")

        responses = await asyncio.gather(*(fetch(gid) for gid in [7, 28, 45, 66] * 50))
    assert {r.status_code for r in responses} == {200}
    assert {r.json()["id"] for r in responses} == {7, 28, 45, 66}
    assert len(server.hits) == 200
    assert 1 <= server.max_concurrency <= 8


def test_workers_bound_the_requests_computed_at_once() -> None:
    fake = FakeAPI.with_sample_data()
    with (
        LiveServer(fake, workers=2, row_cost=0.002) as server,
        httpx.Client(limits=httpx.Limits(max_connections=12)) as http,
        ThreadPoolExecutor(12) as pool,
    ):
        statuses = list(
            pool.map(lambda _: http.get(server.base_url + "packages/").status_code, range(36))
        )
    assert statuses == [200] * 36
    assert 1 <= server.max_busy_workers <= 2


def test_row_cost_is_paid_per_row_of_a_list_page() -> None:
    fake = FakeAPI.with_sample_data()
    with LiveServer(fake, row_cost=0.05) as server, httpx.Client() as http:
        started = time.monotonic()
        http.get(server.base_url + "packages/?limit=4")  # 4 rows: at least 0.2 s
        elapsed = time.monotonic() - started
    assert elapsed >= 0.2


def test_latency_is_waited_before_every_request() -> None:
    with LiveServer(FakeAPI.with_sample_data(), latency=0.05) as server, httpx.Client() as http:
        started = time.monotonic()
        for _ in range(4):
            http.get(server.base_url)
        elapsed = time.monotonic() - started
    assert elapsed >= 0.2


@pytest.mark.parametrize(
    ("path", "rows"),
    [
        ("packages/?limit=2", 2),
        ("packages/?limit=20&offset=3", 2),  # 5 packages: offsets 3 and 4
        ("packages/?offset=9", 0),
        ("grids/", 8),
        ("packages/1867/", 1),
        ("", 1),
        ("nope/", 1),
    ],
)
def test_rows_counted_for_row_cost(path: str, rows: int) -> None:
    from djangopackages_sdk.testing._live import _rows_of

    fake = FakeAPI.with_sample_data()
    url = "http://127.0.0.1:1/api/v4/" + path
    response = fake.handle(httpx.Request("GET", url))
    hit = Hit("GET", httpx.URL(url).raw_path.decode(), 1, 0.0)
    assert _rows_of(response, hit) == rows
    response.extensions["rows"] = 42
    assert _rows_of(response, hit) == 42


class _RecordedWaits(threading.Event):
    """The server's stop event, recording every wait instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        return False


@pytest.mark.parametrize(
    ("path", "cost"),
    [
        ("packages/?limit=4", 0.5 + 4 * 0.25),
        ("packages/1867/", 0.5 + 0.25),
        ("grids/?limit=2", 0.5 + 2 * 0.125),
        ("categories/", 0.5),  # a collection left out of the mapping costs nothing per row
        ("", 0.5),
    ],
)
def test_request_cost_and_row_costs_by_collection(path: str, cost: float) -> None:
    live = LiveServer(
        FakeAPI.with_sample_data(), request_cost=0.5, row_cost={"packages": 0.25, "grids": 0.125}
    )
    with live as server, httpx.Client() as http:
        waits = _RecordedWaits()
        server._stopping = waits
        assert http.get(server.base_url + path).status_code == 200
    assert waits.waits == [pytest.approx(cost)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"row_cost": {"package": 0.1}}, "unknown collection"),
        ({"row_cost": {"grids": -0.1}}, "must not be negative"),
        ({"row_cost": -1.0}, "must not be negative"),
        ({"request_cost": -0.1}, "must not be negative"),
    ],
)
def test_bad_costs_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LiveServer(FakeAPI.with_sample_data(), **options)


# -- faults ---------------------------------------------------------------------------


def test_fault_status_with_retry_after_and_html() -> None:
    page = "<!doctype html><title>Down for maintenance</title>"
    faults = {1: Fault.status(429, retry_after=1), 2: Fault.status(503, page)}
    with (
        LiveServer(FakeAPI.with_sample_data(), fault=lambda hit: faults.get(hit.number)) as server,
        httpx.Client() as http,
    ):
        limited = http.get(server.base_url + "packages/")
        down = http.get(server.base_url + "packages/")
        fine = http.get(server.base_url + "packages/")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    assert limited.content == b""
    assert down.status_code == 503
    assert down.headers["content-type"] == "text/html; charset=utf-8"
    assert down.text == page
    assert fine.status_code == 200
    assert fine.json()["count"] == 5
    assert len(server.hits) == 3
    assert server.connections == 1  # error answers keep the connection alive


def test_fault_status_retry_after_as_http_date_and_json_body() -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    fault = Fault.status(429, {"detail": "slow down"}, retry_after=date, headers={"X-A": "b"})
    assert fault.headers == (
        ("Content-Type", "application/json"),
        ("X-A", "b"),
        ("Retry-After", date),
    )
    with (
        LiveServer(FakeAPI.with_sample_data(), fault=lambda hit: fault) as server,
        httpx.Client() as http,
    ):
        response = http.get(server.base_url)
    assert response.status_code == 429
    assert response.headers["retry-after"] == date
    assert response.headers["x-a"] == "b"
    assert response.json() == {"detail": "slow down"}


def test_fault_body_serves_a_page_the_api_never_sent() -> None:
    loop = {"count": 9, "next": "LOOP", "previous": None, "results": []}
    with (
        LiveServer(
            FakeAPI.with_sample_data(),
            fault=lambda hit: Fault.body(loop) if hit.is_list() else None,
        ) as server,
        httpx.Client() as http,
    ):
        listed = http.get(server.base_url + "packages/")
        detail = http.get(server.base_url + "packages/1867/")
    assert listed.status_code == 200
    assert listed.headers["content-type"] == "application/json"
    assert listed.json() == loop
    assert detail.json()["id"] == 1867


def test_fault_body_html_under_200() -> None:
    html = b"<html><body>Checking your browser...</body></html>"
    fault = Fault.body(html, content_type="text/html")
    with (
        LiveServer(FakeAPI.with_sample_data(), fault=lambda hit: fault) as server,
        httpx.Client() as http,
    ):
        response = http.get(server.base_url + "packages/")
    assert (response.status_code, response.content) == (200, html)
    assert response.headers["content-type"] == "text/html"
    assert Fault.body("<p>x</p>", content_type=None).headers[0][1].startswith("text/html")


def test_fault_truncated_cuts_the_real_body() -> None:
    with (
        LiveServer(FakeAPI.with_sample_data(), fault=lambda hit: Fault.truncated(30)) as server,
        httpx.Client() as http,
    ):
        response = http.get(server.base_url + "packages/")
        full = server.fake.handle(httpx.Request("GET", server.base_url + "packages/"))
    assert response.status_code == 200
    assert response.content == full.content[:30]
    assert response.headers["content-length"] == "30"
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_fault_reset_aborts_the_connection() -> None:
    with (
        LiveServer(
            FakeAPI.with_sample_data(),
            fault=lambda hit: Fault.reset() if hit.number == 2 else None,
        ) as server,
        httpx.Client() as http,
    ):
        assert http.get(server.base_url).status_code == 200
        with pytest.raises(httpx.TransportError):
            http.get(server.base_url)
        assert http.get(server.base_url).status_code == 200  # a new connection
    assert len(server.hits) == 3
    assert server.connections == 2


def test_fault_reset_on_a_raw_socket_is_a_tcp_reset() -> None:
    with LiveServer(FakeAPI.with_sample_data(), fault=lambda hit: Fault.reset()) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET /api/v4/ HTTP/1.1\r\nHost: x\r\n\r\n")
            with pytest.raises(ConnectionResetError):
                _drain(sock)
        assert len(server.hits) == 1


def test_fault_delay_exceeds_a_client_timeout() -> None:
    with (
        LiveServer(
            FakeAPI.with_sample_data(),
            fault=lambda hit: Fault.delay(5) if hit.number == 1 else None,
        ) as server,
        httpx.Client(timeout=0.2) as http,
    ):
        with pytest.raises(httpx.ReadTimeout):
            http.get(server.base_url)
        assert http.get(server.base_url).status_code == 200
    assert len(server.hits) == 2


def test_fault_delay_then_another_fault() -> None:
    fault = Fault.delay(0.01, Fault.status(504, "<h1>Gateway Timeout</h1>"))
    assert fault.wait == 0.01
    assert fault.status_code == 504
    with (
        LiveServer(FakeAPI.with_sample_data(), fault=lambda hit: fault) as server,
        httpx.Client() as http,
    ):
        assert http.get(server.base_url).status_code == 504


def test_fault_mutate_changes_the_fake_before_answering() -> None:
    fake = FakeAPI.with_sample_data()
    extra = dict(fake.packages[359], id=5000, slug="brand-new")

    def insert_once(hit: Hit) -> Fault | None:
        return Fault.mutate(lambda f: f.add(extra)) if hit.number == 2 else None

    with LiveServer(fake, fault=insert_once) as server, httpx.Client() as http:
        before = http.get(server.base_url + "packages/").json()
        after = http.get(server.base_url + "packages/").json()
    assert before["count"] == 5
    assert after["count"] == 6
    assert after["results"][0]["id"] == 5000


def test_fault_callable_may_mutate_and_return_none() -> None:
    fake = FakeAPI.with_sample_data()

    def delete(hit: Hit) -> Fault | None:
        if hit.number == 2:
            fake.remove("package", 1867)
        return None

    with LiveServer(fake, fault=delete) as server, httpx.Client() as http:
        assert http.get(server.base_url + "packages/1867/").status_code == 200
        assert http.get(server.base_url + "packages/1867/").status_code == 404


def test_a_failing_fault_callable_answers_500_and_is_recorded() -> None:
    def broken(hit: Hit) -> Fault | None:
        raise RuntimeError("oops")

    with LiveServer(FakeAPI.with_sample_data(), fault=broken) as server, httpx.Client() as http:
        response = http.get(server.base_url)
    assert response.status_code == 500
    assert "oops" in response.text
    assert [str(e) for e in server.errors] == ["oops"]


# -- lifecycle ------------------------------------------------------------------------


def test_stop_closes_everything_even_with_idle_keep_alive_connections() -> None:
    server = LiveServer(FakeAPI.with_sample_data()).start()
    assert server.running
    port = server.port
    http = httpx.Client()
    try:
        for _ in range(3):
            assert http.get(server.base_url).status_code == 200
        assert _server_threads()  # accept loop and the keep-alive connection
        server.stop()
        assert _server_threads() == []
        assert server.base_url == f"http://127.0.0.1:{port}/api/v4/"  # still known
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        server.stop()  # idempotent
    finally:
        http.close()


def test_stop_cuts_short_a_delayed_answer() -> None:
    server = LiveServer(FakeAPI.with_sample_data(), fault=lambda hit: Fault.delay(60)).start()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.get(server.base_url, timeout=30)
        except httpx.HTTPError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while not server.hits:
        time.sleep(0.01)
    server.stop()
    caller.join(timeout=10)
    assert not caller.is_alive()
    assert len(errors) == 1
    assert _server_threads() == []


def test_restart_after_stop_is_refused_while_running_and_allowed_after() -> None:
    server = LiveServer(FakeAPI.with_sample_data())
    with pytest.raises(RuntimeError):
        _ = server.port
    assert not server.running
    with server:
        with pytest.raises(RuntimeError):
            server.start()
        assert httpx.get(server.base_url).status_code == 200
    with server:
        assert httpx.get(server.base_url).status_code == 200
    assert [hit.number for hit in server.hits] == [1, 2]


def test_invalid_arguments() -> None:
    fake = FakeAPI.with_sample_data()
    with pytest.raises(ValueError, match="workers"):
        LiveServer(fake, workers=0)
    with pytest.raises(ValueError, match="negative"):
        LiveServer(fake, latency=-1)
