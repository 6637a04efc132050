"""The blocking I/O of `Client`: how it sends, sleeps and waits.

`SyncDriver` drives the flows of `_operations.py`, `_relations.py` and
`_crawl.py` with blocking calls and a small thread pool for concurrent fetches;
it holds no logic of its own beyond that (see `_protocol.py` for the contract,
`_guard.py` for the bounded reads, cancellation and sharing between threads).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from ._config import CallOptions, Settings
from ._driver import Driver, drive, iterate
from ._exceptions import DjangoPackagesError
from ._guard import Attempt, Call, SharedCalls, install, running
from ._protocol import Fetch, FetchResult, Flow, Outcome, RequestFlow, Send, Sleep
from ._request import BodyReader, request_flow, settle
from ._watch import Blocking, Driven

__all__ = ["SyncDriver"]

T = TypeVar("T")


class SyncDriver(Driver):
    """`Driver` with blocking I/O: the base of `Client`, which adds the public surface."""

    def __init__(
        self, base_url: str, settings: Settings, *, strict: bool, http_client: httpx.Client | None
    ) -> None:
        super().__init__(base_url, settings, strict=strict)
        self._owns_http = http_client is None
        if http_client is None:
            http_client = self._new_http(httpx.Client)
            self._bounded_reads = install(http_client)
            # A client dropped without close() still releases its connections at once.
            self._release = weakref.finalize(self, http_client.close)
        else:
            self._bounded_reads = False
        self._http = http_client
        self._slots = threading.BoundedSemaphore(self._settings.max_in_flight)
        self._shared: SharedCalls[FetchResult] = SharedCalls()

    def _close_http(self) -> None:
        if self._owns_http:
            self._release()

    def _run(self, flow: Flow[T]) -> T:
        return drive(self._guarded(flow), self._fetch_all)

    def _iterate(self, flow: Driven[T]) -> Iterator[T]:
        return iterate(self._guarded(flow), self._perform)

    def _perform(self, action: Fetch | Sleep | Blocking) -> Any:
        if isinstance(action, Sleep):
            time.sleep(action.seconds)
            return None
        if isinstance(action, Blocking):
            return action.function()
        return self._fetch_all(action)

    def _fetch_all(self, fetch: Fetch) -> list[FetchResult]:
        call = Call()
        if len(fetch.urls) == 1:
            return [self._fetch_and_finish(fetch, 0, call)]
        # Threads live for one round only: an idle or forgotten client holds none.
        pool = ThreadPoolExecutor(
            min(len(fetch.urls), self._settings.max_in_flight),
            thread_name_prefix="djangopackages-sdk",
        )
        try:
            futures = [
                pool.submit(self._fetch_and_finish, fetch, i, call) for i in range(len(fetch.urls))
            ]
            return [future.result() for future in futures]
        except BaseException:
            # Ctrl-C (or any error) in the caller: nothing queued is sent, and what
            # is under way is cut off at its socket, so the threads end at once.
            call.cancel()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _fetch_and_finish(self, fetch: Fetch, index: int, call: Call) -> FetchResult:
        # Two levels of sharing: callers of one URL share its request; callers that
        # also share the parser share the parsing, and wait until it is complete.
        url, parser = fetch.urls[index], fetch.parser(index)
        return self._shared(
            (url, parser),
            lambda: settle(
                fetch,
                index,
                self._shared(url, lambda: self._fetch_now(url, fetch.options_of(index), call)),
            ),
        )

    def _fetch_now(
        self, url: str, options: CallOptions, call: Call
    ) -> httpx.Response | DjangoPackagesError:
        try:
            return self._send(request_flow(self._http, self._settings, url, options), call)
        except DjangoPackagesError as error:
            return error

    def _send(self, flow: RequestFlow, call: Call) -> httpx.Response:
        def perform(action: Send | Sleep) -> Outcome | None:
            if isinstance(action, Sleep):
                call.sleep(action.seconds)
                return None
            return self._attempt(action, call)

        return drive(flow, perform)

    def _attempt(self, send: Send, call: Call) -> Outcome:
        """One attempt: a request slot, the request, its body, all within the bound."""
        call.check()
        self._check_open()
        if not self._slots.acquire(timeout=max(0.0, send.expires_at - time.monotonic())):
            return httpx.PoolTimeout("no request slot came free in time", request=send.request)
        attempt = Attempt(send.expires_at)
        try:
            call.track(attempt)
            with running(attempt):
                response = self._http.send(send.request, stream=True)
                try:
                    reader = BodyReader(str(send.request.url), send, response)
                    for chunk in response.iter_bytes():
                        reader.take(chunk)
                    return reader.response()
                finally:
                    response.close()
        except (httpx.HTTPError, DjangoPackagesError) as exc:
            call.check()  # an aborted attempt ends the call, it is not retried
            return exc
        except RuntimeError:
            self._check_open()  # closed meanwhile: say so, not httpx's words
            raise
        finally:
            call.untrack(attempt)
            self._slots.release()
