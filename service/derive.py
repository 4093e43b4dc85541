"""Every level and window the pages ask for, derived from the leaf facts a store gives.

The store gives each indicator at its binding's leaf ``level`` (a district, a grid, a
parking lot's district); this module reads those facts through the cache and rolls them
up the hierarchy by the catalogue's rule (:mod:`service.rollup`). A level the
binding lists under ``answers`` is read from the store as it is. The simulator goes
through the same path as every other store.

Reads are batched per (source, level) or (source, areas); one indicator whose read
fails is reported in :attr:`Frame.missing` and the others still come back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from datasources.base import LATEST_COLUMNS, SERIES_COLUMNS, Adapter, Frame, utcnow
from datasources.errors import BadQuery, DataSourceError
from datasources.validation import Plausibility

from .derived_memo import DerivedMemo
from .hierarchy import LEVELS, Hierarchy
from .rollup import combine, combine_each

if TYPE_CHECKING:
    from citybrain.catalogue import Catalogue, Indicator
    from datasources.cache import CachedSource

MAX_DEPTH = 4   # indicators weighed by indicators weighed by ...
MEMO_SIZE = 256  # derived results kept while the reads behind them are unchanged


@dataclass(frozen=True)
class Plan:
    """How one indicator's values at one level are made."""

    read_level: str | None     # the level read from the store (None: not available)
    direct: bool               # the store answers this level itself: no roll-up
    reason: str = ""


def finer(a: str, b: str) -> bool:
    """Whether level ``a`` lies below level ``b``."""
    return LEVELS.index(a) > LEVELS.index(b)


class Deriver:
    """Latest values and series at any level, rolled up from leaf facts."""

    def __init__(self, catalogue: Catalogue, sources: Mapping[str, CachedSource],
                 hierarchy: Callable[[], Hierarchy | None],
                 on_unknown: Callable[[str, str, int, str], None] | None = None) -> None:
        self.catalogue = catalogue
        # a store whose facts always come at one level (the simulator's grids) says so
        self.natural = {name: lv for name, src in sources.items()
                        if isinstance(src.source, Adapter) and (lv := src.source.leaf_level) in LEVELS}
        self.sources = sources
        self.hierarchy = hierarchy
        self.memo = DerivedMemo(MEMO_SIZE)
        self.on_unknown = on_unknown or (lambda source, what, n, example: None)
        # values no indicator can take (1e308, true, NaN, outside ``valid``): out and counted
        self.plausible = Plausibility(catalogue)

    # --- planning -------------------------------------------------------------------------
    def leaf(self, ind: Indicator, *, history: bool = False) -> str:
        """The level of the facts the store gives for ``ind``."""
        binding = ind.series_binding() if history else ind.binding
        return binding.level or self.natural.get(binding.source) or ind.leaf_level

    def plan(self, ind: Indicator, level: str, *, history: bool = False) -> Plan:
        binding = ind.series_binding() if history else ind.binding
        leaf = self.leaf(ind, history=history)
        if level in binding.answers:
            return Plan(level, True)
        if finer(level, leaf):
            return Plan(None, False, f"{ind.id} is not available at level {level}: its finest facts "
                                     f"are at {leaf}")
        return Plan(leaf, False)

    # --- latest ---------------------------------------------------------------------------
    def latest(self, ids: Sequence[str], level: str, at: datetime | None = None) -> Frame[pd.DataFrame]:
        inds = [self.catalogue.get(i) for i in ids]
        hier = self.hierarchy()
        reads: dict[tuple[str, str], Frame[pd.DataFrame] | DataSourceError] = {}
        wanted = [(ind, self.plan(ind, level)) for ind in inds]
        self._prefetch(reads, [(ind, p.read_level) for ind, p in wanted if p.read_level], at, hier)
        key = ("latest", tuple(ids), level, at, id(hier))
        signature = self.memo.signature(reads)
        hit = self.memo.recall(key, signature)
        if hit is not None:
            return hit
        parts, used, inputs = [], [], []
        missing: dict[str, str | DataSourceError] = {}
        done = self._plain_latest(wanted, level, hier, reads, parts, used)
        for ind, plan in wanted:
            if ind.id in done:
                continue
            if plan.read_level is None:
                missing[ind.id] = plan.reason
                continue
            try:
                values, frames = self._latest_of(ind, level, plan, hier, reads, at, 0)
            except DataSourceError as exc:
                missing[ind.id] = exc
                continue
            parts.append(values.assign(indicator=ind.id)[LATEST_COLUMNS])
            used.append(frames[0])
            inputs += frames[1:]
        return self.memo.keep(key, signature, self._derived(
            _assemble(parts, used, missing, LATEST_COLUMNS, inputs), (key, signature)))

    def _plain_latest(self, wanted: list[tuple[Indicator, Plan]], level: str, hier: Hierarchy | None,
                      reads: dict[tuple[str, str], Any], parts: list[pd.DataFrame],
                      used: list[Frame[pd.DataFrame]]) -> set[str]:
        """Indicators summed or averaged from one batch read, rolled up in one pass; returns
        their ids (the others go one by one)."""
        groups: dict[tuple[int, str, str], list[Indicator]] = {}
        for ind, plan in wanted:
            got = reads.get((ind.id, str(plan.read_level)))
            if plan.read_level is None or plan.direct or not isinstance(got, tuple) \
                    or ind.rollup.method not in ("sum", "mean") or (hier is None and plan.read_level != level):
                continue
            groups.setdefault((id(got[0]), str(plan.read_level), ind.rollup.method), []).append(ind)
        done: set[str] = set()
        for (_frame, leaf, _method), inds in groups.items():
            frame = reads[(inds[0].id, leaf)][0]
            ids = {i.id for i in inds}
            rows = frame.data[frame.data["indicator"].isin(ids)]
            known = hier.ids_at(leaf) if hier is not None else None
            if known is not None:
                rows = rows[rows["area_id"].astype(str).isin(known)]
            target = _target(hier, leaf, level, rows, frame.source)
            out = combine_each(rows, target, inds[0].rollup,
                               {i.id: timedelta(seconds=i.cadence) for i in inds})
            parts.append(out[LATEST_COLUMNS])
            used.append(frame)
            done |= ids
        return done

    # --- plausible values only ---------------------------------------------------------------
    def _plausible(self, frame: Frame[pd.DataFrame], what: str, read: Any) -> Frame[pd.DataFrame]:
        """A store's frame without the values its indicators cannot take (counted once a fetch)."""
        data = self.plausible.check(frame.data, source=frame.source, what=what,
                                    fetch=(read, frame.fetched_at, frame.stale))
        return frame if data is frame.data else replace(frame, data=data)

    def _derived(self, frame: Frame[pd.DataFrame], fetch: Any) -> Frame[pd.DataFrame]:
        """A derived result without values outside their indicator's range (a ratio of two
        plausible columns can still be 500 %); an indicator left with none says why."""
        data = self.plausible.check(frame.data, source=frame.source, what="derived", fetch=fetch,
                                    keep_missing=True)
        if len(data) == len(frame.data):
            return frame
        lost = set(frame.data["indicator"]) - set(data["indicator"]) - set(frame.missing)
        reasons = {**frame.missing, **{i: "its values lie outside the valid range" for i in lost}}
        return replace(frame, data=data.reset_index(drop=True), missing=reasons)

    def _latest_of(self, ind: Indicator, level: str, plan: Plan, hier: Hierarchy | None,
                   reads: dict[tuple[str, str], Any], at: datetime | None,
                   depth: int) -> tuple[pd.DataFrame, list[Frame[pd.DataFrame]]]:
        read_level = str(plan.read_level)
        frame, rows = self._read_latest(ind, read_level, reads, at, hier)
        if plan.direct:
            return rows[["area_id", "ts", "value"]], [frame]
        rows, frames = self._with_inputs(ind, rows, read_level, hier, reads, at, depth)
        target = _target(hier, read_level, level, rows, frame.source)
        out = combine(rows, target, ind.rollup, by_time=False, source=frame.source,
                      window=timedelta(seconds=ind.cadence))
        return out[["area_id", "ts", "value"]], [frame, *frames]

    def _read_latest(self, ind: Indicator, level: str, reads: dict[tuple[str, str], Any],
                     at: datetime | None, hier: Hierarchy | None
                     ) -> tuple[Frame[pd.DataFrame], pd.DataFrame]:
        key = (ind.id, level)
        if key not in reads:
            self._prefetch(reads, [(ind, level)], at, hier)
        got = reads[key]
        if isinstance(got, DataSourceError):
            raise got
        return got

    def _prefetch(self, reads: dict[tuple[str, str], Any], wanted: Sequence[tuple[Indicator, str]],
                  at: datetime | None, hier: Hierarchy | None) -> None:
        """One store read per (source, level) for every (indicator, level) not read yet."""
        groups: dict[tuple[str, str], list[Indicator]] = {}
        for ind, level in wanted:   # one batch per source and level: they age together
            if (ind.id, level) not in reads:
                groups.setdefault((ind.binding.source, level), []).append(ind)
        for (source, level), inds in groups.items():
            try:
                frame = self.sources[source].latest(inds, level, at)
            except BadQuery as exc:   # one binding's mistake: read the others one by one
                if len(inds) == 1:
                    reads[(inds[0].id, level)] = exc
                else:
                    self._prefetch_each(reads, inds, level, at, hier)
                continue
            except DataSourceError as exc:   # the store is down: every indicator of it is
                for ind in inds:
                    reads[(ind.id, level)] = exc
                continue
            frame = self._plausible(frame, f"latest at {level}", tuple(i.id for i in inds))
            known = hier.ids_at(level) if hier is not None else None
            rows = self._count_unknown(frame.data, known, frame.source, f"latest at {level}")
            split = dict(iter(rows.groupby("indicator", sort=False))) if not rows.empty else {}
            for ind in inds:
                reads[(ind.id, level)] = (frame, split.get(ind.id, rows.iloc[0:0]))

    def _prefetch_each(self, reads: dict[tuple[str, str], Any], inds: Sequence[Indicator], level: str,
                       at: datetime | None, hier: Hierarchy | None) -> None:
        for ind in inds:
            self._prefetch(reads, [(ind, level)], at, hier)

    def _with_inputs(self, ind: Indicator, rows: pd.DataFrame, level: str, hier: Hierarchy | None,
                     reads: dict[tuple[str, str], Any], at: datetime | None,
                     depth: int) -> tuple[pd.DataFrame, list[Frame[pd.DataFrame]]]:
        """``rows`` with a column for every input of the rule that is another indicator."""
        frames = []
        for ref in ind.rollup.references():
            if ref in rows.columns or ref not in self.catalogue:
                continue
            if depth >= MAX_DEPTH:
                raise BadQuery("rollup", f"{ind.id}: inputs nest deeper than {MAX_DEPTH} indicators")
            dep = self.catalogue.get(ref)
            plan = self.plan(dep, level)
            if plan.read_level is None:
                raise BadQuery(dep.binding.source, f"{ind.id} needs {ref} at level {level}: {plan.reason}")
            values, used = self._latest_of(dep, level, plan, hier, reads, at, depth + 1)
            rows = rows.assign(**{ref: rows["area_id"].map(values.set_index("area_id")["value"])})
            frames += used
        return rows, frames

    def _count_unknown(self, rows: pd.DataFrame, known: frozenset[str] | None, source: str,
                       what: str) -> pd.DataFrame:
        if known is None or rows.empty:
            return rows
        ids = rows["area_id"].astype(str)
        bad = [a for a in pd.unique(ids) if a not in known]   # a few hundred ids, not every row
        if not bad:
            return rows
        unknown = ids.isin(bad)
        if unknown.any():
            self.on_unknown(source, what, int(unknown.sum()), str(ids[unknown].iloc[0]))
            rows = rows[~unknown]
        return rows

    # --- series ---------------------------------------------------------------------------
    def series(self, ids: Sequence[str], area_ids: Sequence[str], start: datetime, end: datetime,
               step: timedelta) -> Frame[pd.DataFrame]:
        inds = [self.catalogue.get(i) for i in ids]
        hier = self.hierarchy()
        if hier is None:
            raise BadQuery("areas", "the area hierarchy is not available, so series cannot be rolled up")
        by_level: dict[str, list[str]] = {}
        for area in dict.fromkeys(str(a) for a in area_ids):
            if area not in hier.level:
                raise BadQuery("areas", f"unknown area id {area!r}")
            by_level.setdefault(hier.level[area], []).append(area)
        jobs = []   # (indicator, plan, target map leaf -> asked area)
        missing: dict[str, str | DataSourceError] = {}
        for ind in inds:
            for level, areas in by_level.items():
                plan = self.plan(ind, level, history=True)
                if plan.read_level is None:
                    missing.setdefault(ind.id, plan.reason)
                elif plan.direct or plan.read_level == level:
                    jobs.append((ind, plan, {a: a for a in areas}))
                else:
                    jobs.append((ind, plan, hier.towards(plan.read_level, areas)))
        reads = self._series_reads(jobs, start, end, step)
        key = ("series", tuple(ids), tuple(area_ids), start, end, step, id(hier))
        signature = self.memo.signature(reads)
        hit = self.memo.recall(key, signature)
        if hit is not None:
            return hit
        period = "day" if step >= timedelta(days=1) else "hour"
        parts, used = [], []
        splits: dict[int, dict[str, pd.DataFrame]] = {}
        for ind, plan, target in jobs:
            got = reads.get((ind.id, tuple(sorted(target))))
            if isinstance(got, DataSourceError) or got is None:
                missing[ind.id] = got if got is not None else "no read"
                continue
            if id(got) not in splits:   # one pass over a batch read, not one per indicator
                splits[id(got)] = dict(iter(got.data.groupby("indicator", sort=False))) if not got.data.empty else {}
            rows = splits[id(got)].get(ind.id, got.data.iloc[0:0])
            try:
                if plan.direct:
                    out = rows[["area_id", "ts", "value"]]
                else:
                    rows = self._series_inputs(ind, rows, target, start, end, step)
                    out = combine(rows, target, ind.rollup, by_time=True, period=period, source=got.source)
            except DataSourceError as exc:
                missing[ind.id] = exc
                continue
            parts.append(out.assign(indicator=ind.id)[SERIES_COLUMNS])
            used.append(got)
        for ind_id in [i.id for i in inds]:
            if any(p["indicator"].iloc[0] == ind_id for p in parts if not p.empty):
                missing.pop(ind_id, None)
        return self.memo.keep(key, signature, self._derived(
            _assemble(parts, used, missing, SERIES_COLUMNS), (key, signature)))

    def _series_reads(self, jobs: list[tuple[Indicator, Plan, dict[str, str]]], start: datetime,
                      end: datetime, step: timedelta) -> dict[tuple[str, tuple[str, ...]], Any]:
        groups: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[Indicator]] = {}
        for ind, _plan, target in jobs:
            binding = ind.series_binding()
            key = (binding.source, tuple(sorted(target)), _facts_key(ind))
            view = ind if ind.history is None else ind.model_copy(update={"binding": ind.history})
            if all(v.id != ind.id for v in groups.get(key, [])):
                groups.setdefault(key, []).append(view)
        out: dict[tuple[str, tuple[str, ...]], Any] = {}
        for (source, leaves, _facts), inds in groups.items():
            if not leaves:
                result: Any = BadQuery(source, "no areas of the store's level lie under the areas asked for")
            else:
                try:
                    result = self.sources[source].series(inds, list(leaves), start, end, step)
                    result = self._plausible(result, "series", (leaves, start, end, step))
                except DataSourceError as exc:
                    result = exc
            for ind in inds:
                out[(ind.id, leaves)] = result
        return out

    def _series_inputs(self, ind: Indicator, rows: pd.DataFrame, target: Mapping[str, str],
                       start: datetime, end: datetime, step: timedelta) -> pd.DataFrame:
        for ref in ind.rollup.references():
            if ref in rows.columns or ref not in self.catalogue:
                continue
            dep = self.series([ref], sorted(target), start, end, step).data
            dep = dep[["area_id", "ts", "value"]].rename(columns={"value": ref})
            rows = rows.drop(columns=[ref], errors="ignore").merge(dep, on=["area_id", "ts"], how="left")
        return rows


def _facts_key(ind: Indicator) -> tuple[str, ...]:
    """Indicators whose rows carry columns of their own (ratio, standard) are read apart, so
    a batch's frame never grows a column per fact for every row."""
    return (ind.id,) if ind.rollup.method in ("ratio", "standard") else ()


def _target(hier: Hierarchy | None, leaf: str, level: str, rows: pd.DataFrame, source: str) -> dict[str, str]:
    if leaf == level:
        ids = rows["area_id"].astype(str).unique()
        return {a: a for a in ids}
    if hier is None:
        raise BadQuery(source, f"the area hierarchy is not available, so {level} values cannot be rolled "
                               f"up from {leaf} facts")
    return hier.up(leaf, level)


def _assemble(parts: list[pd.DataFrame], used: list[Frame[pd.DataFrame]],
              missing: Mapping[str, str | DataSourceError], columns: list[str],
              inputs: Sequence[Frame[pd.DataFrame]] = ()) -> Frame[pd.DataFrame]:
    """One frame of the derived rows: the oldest as_of of the indicators' own reads (a weight
    such as population, read hourly, does not age them), stale when any read was; when every
    read failed, the first failure is raised, as a single store read would."""
    frames = list({id(f): f for f in used}.values())
    helpers = [f for f in inputs if all(f is not g for g in frames)]
    parts = [p for p in parts if not p.empty]
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    failures = [m for m in missing.values() if isinstance(m, DataSourceError)]
    if not frames and failures:
        raise failures[0]
    reasons = {k: str(v) for k, v in missing.items()}
    if not frames:
        return Frame(data, as_of=utcnow(), source="none", missing=reasons)
    errors = [f.error for f in [*frames, *helpers] if f.error]
    return Frame(data, as_of=min(f.as_of for f in frames), source="+".join(dict.fromkeys(f.source for f in frames)),
                 fetched_at=min(f.fetched_at for f in frames), stale=any(f.stale for f in [*frames, *helpers]),
                 error="; ".join(dict.fromkeys(errors)) or None, missing=reasons)
