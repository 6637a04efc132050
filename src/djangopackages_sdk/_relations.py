"""Relations: links resolved into the resources they point to, in the cheapest plan.

`Relations` adds to `Operations` the flows of ``resolve`` and ``resolve_many``
(with `plan`, their bulk-versus-detail rule) and of ``compare``, which resolves
a grid's packages and their categories. Like every flow, they only describe
their requests (see `_protocol.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from ._compare import Comparison, build_comparison, check_grid, check_sort
from ._config import CallOptions
from ._models import CollectionName, Grid, Link, ResourceT
from ._operations import Operations
from ._protocol import Flow, collect, gather
from ._registry import collection_of

__all__ = ["Relations"]


class Relations(Operations):
    """`Operations` and the relation flows: resolution, its plan, the comparison."""

    def _known(self, link: Link[Any]) -> Any:
        return self._identity.fresh(link.collection, link.id)

    def _resolve_op(self, link: Link[ResourceT], options: CallOptions) -> Flow[ResourceT]:
        if not isinstance(link, Link):
            raise TypeError(f"link must be a Link, not {type(link).__name__}")
        (item,) = yield from self._resolve_many_op([link], options)
        return item

    def _resolve_many_op(
        self, links: Iterable[Link[ResourceT]], options: CallOptions
    ) -> Flow[list[ResourceT]]:
        if isinstance(links, Link | str):
            raise TypeError("links must be an iterable of Link values (use resolve for one)")
        wanted = list(links)
        # The answer is built from what this call found or loaded, never read back
        # from the identity map, which another thread or task may clear meanwhile.
        found: dict[tuple[str, int], Any] = {}
        missing: dict[str, dict[str, Link[Any]]] = {}
        for link in wanted:
            if not isinstance(link, Link):
                raise TypeError(f"links must hold Link values, not {type(link).__name__}")
            key = (link.collection, link.id)
            if key in found or link.url in missing.get(link.collection, ()):
                continue
            self.root.check_link(link)  # no request leaves for a foreign or forged link
            hit = self._known(link)
            if hit is not None:
                found[key] = hit
            else:
                missing.setdefault(link.collection, {})[link.url] = link
        if missing:
            yield from self._fill(missing, found, options)
        return [found[(link.collection, link.id)] for link in wanted]

    def plan(self, collection: str, missing: int) -> str:
        """How ``resolve_many`` fetches ``missing`` unloaded links of one collection.

        * ``"bulk"``: list the whole collection (which also fills the identity
          map) when one detail request per link would cost more than listing:
          ``missing >= 2`` and ``missing > 1 + count / bulk_rows_per_request``, a
          detail request being worth about ``bulk_rows_per_request`` listed rows
          (250: 50 ms of latency against 0.2 ms of server time per row).
        * ``"detail"``: one detail request per link (concurrent), when that is
          cheaper, and for a single link whose collection size is unknown.
        * ``"list-first"``: the collection's size is unknown and several links
          are missing: read the listing's first page, which reveals ``count``
          and may hold them all, then plan again for the rest.
        """
        count = self._identity.count(collection)
        if count is None:
            return "list-first" if missing >= 2 else "detail"
        return (
            "bulk"
            if missing >= 2 and missing > 1 + count / self._settings.bulk_rows_per_request
            else "detail"
        )

    def _fill(
        self,
        missing: dict[str, dict[str, Link[Any]]],
        found: dict[tuple[str, int], Any],
        options: CallOptions,
    ) -> Flow[None]:
        yield from gather(
            [
                self._fetch_links(collection, links, found, options)
                for collection, links in missing.items()
            ]
        )
        # A listing can miss a link (deleted since, or a row it skipped): fetch those directly.
        leftovers = [
            url
            for links in missing.values()
            for url, link in links.items()
            if (link.collection, link.id) not in found
        ]
        if leftovers:
            self._found(found, (yield from self._load_many(leftovers, options)))

    @staticmethod
    def _found(found: dict[tuple[str, int], Any], items: Iterable[Any]) -> None:
        for item in items:
            found[(collection_of(item), item.id)] = item

    def _fetch_links(
        self,
        collection: str,
        links: dict[str, Link[Any]],
        found: dict[tuple[str, int], Any],
        options: CallOptions,
    ) -> Flow[None]:
        """Load the resources behind ``links`` (one collection) by the plan of `plan`."""
        urls = list(links)
        decision = self.plan(collection, len(urls))
        if decision == "detail":
            self._found(found, (yield from self._load_many(urls, options)))
            return
        # A row the listing cannot read only matters if it is one of the links:
        # those are fetched again one by one afterwards, and raise there. The first
        # round reads, along with the first page, as many rows as a count read
        # earlier says there are, or else twice as many as there are distinct links
        # (linked rows are spread over the collection; slices past its end come
        # back empty at no cost), so that most collections take one round.
        wanted = {link.id for link in links.values()}
        crawl = self._crawl(
            cast(CollectionName, collection),
            page_size=None,
            checkpoint=None,
            on_error="skip",
            options=options,
            expected_rows=self._identity.count(collection) or 2 * len(urls),
        )
        by_detail: list[str] = []

        def replan(rounds: int) -> bool:
            # After the first round `count` is known: plan again for the links left.
            if decision != "list-first" or rounds != 1:
                return False
            # (The map answers here: the crawl stored its first round there. Were it
            # cleared meanwhile, this only plans more requests, never a wrong answer.)
            still = [url for url, link in links.items() if self._known(link) is None]
            if still and self.plan(collection, len(still)) == "bulk":
                return False
            by_detail.extend(still)
            return True

        listed = yield from collect(crawl.run(), stop=replan)
        self._found(found, (item for item in listed if item.id in wanted))
        if by_detail:
            self._found(found, (yield from self._load_many(by_detail, options)))

    def _compare_op(
        self, grid: object, sort: str, now: datetime | None, options: CallOptions
    ) -> Flow[Comparison]:
        # The grid (none for a model), its packages by resolve_many's plan, then the
        # distinct categories in one round.
        check_sort(sort)
        key = check_grid(grid)
        if isinstance(key, Link):
            found: Grid = yield from self._resolve_op(key, options)
        else:
            found = (
                key
                if isinstance(key, Grid)
                else (yield from self._get_op("grids", key, options, False))
            )
        packages = yield from self._resolve_many_op(found.packages, options)
        categories = yield from self._resolve_many_op({p.category: None for p in packages}, options)
        titles = {c.id: c.title for c in categories}
        return build_comparison(found, packages, titles, sort, now)
