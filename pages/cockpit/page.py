"""领导驾驶舱 — the leader cockpit, for a desktop or a tablet: the headline indicators of
the catalogue against their targets, a sortable district ranking, what needs attention
now (indicators in alarm, events past their deadline) and the city index over 24 hours.
Every item is one click from its drill-down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import MissingCallbackContextException

from citybrain.areas import AreaTree
from citybrain.catalogue import Indicator
from citybrain.drill import drill_href, query
from citybrain.i18n import t, valid_lang
from citybrain.memo import TtlMemo
from citybrain.numbers import format_number
from citybrain.scoring import STATUS_COLOURS, Composite, composite, index_status
from components.cockpit import (
    ARROW_TYPE,
    SORT_TYPE,
    AttentionView,
    BulletView,
    Column,
    attention_list,
    bullet,
    ranking_head,
    ranking_rows,
    sort_arrows,
    trend_figure,
)
from components.heartbeat import KIND_ICONS
from components.panels import error_state, live_badge, panel
from components.shell import nav_href
from pages.cockpit import model
from pages.common import Freshness, events_missing, headline_age_s, now_utc, top_bar
from service import runtime, scope
from service.kpi import Reading, readings, unconnected

dash.register_page(__name__, path="/cockpit", name="领导驾驶舱", title="领导驾驶舱 · Leader cockpit", order=4)

log = logging.getLogger(__name__)
TICK_SECONDS = 30
MAX_ATTENTION = 20
TICKS = TtlMemo(seconds=5.0)      # viewers ticking together share one computation
DEFAULT_SORT = {"key": "score", "ascending": True}


def layout(lang: str | None = None, **_: Any) -> html.Div:
    """The page, rendered with live data so the first paint is already full."""
    lang = valid_lang(lang)
    v = render(lang)
    columns = _columns(lang)
    return html.Div([
        top_bar(lang, "/cockpit", "cockpit", freshness=v["freshness"]),
        dcc.Store(id="ck-lang", data=lang),
        dcc.Store(id="ck-rows", data=v["rows"]),
        dcc.Store(id="ck-sort", data=DEFAULT_SORT),
        dcc.Interval(id="ck-tick", interval=TICK_SECONDS * 1000),
        html.Main([
            panel(t("ck_headline", lang), html.Div(v["gauges"], id="ck-gauges", className="ck-gauges"),
                  class_name="ck-headline"),
            panel(t("ck_ranking", lang), html.Table([
                ranking_head(columns, t("ck_rank", lang)),
                html.Tbody(_ranking_body(v["rows"], DEFAULT_SORT, columns), id="ck-ranking-body"),
            ], className="ck-ranking-table"), badge=html.Span(t("ck_sort_hint", lang), className="ck-hint"),
                class_name="ck-ranking"),
            panel(t("ck_trend", lang), html.Div(v["trend_note"], id="ck-trend-note"),
                  dcc.Graph(id="ck-trend-graph", figure=v["trend"] if isinstance(v["trend"], dict) else {},
                            className="ck-trend-graph",
                            config={"displayModeBar": False, "responsive": True}),
                  badge=dcc.Link(t("ck_breakdown", lang), href=nav_href("/", lang), className="ck-hint-link"),
                  class_name="ck-trend"),
            panel(t("ck_attention", lang), html.Div(v["attention"], id="ck-attention"),
                  badge=html.Span(v["attention_count"], id="ck-attention-count", className="ck-count"),
                  class_name="ck-attention"),
        ], className="cockpit-grid"),
    ], className="page page-cockpit")


@callback(
    Output("ck-gauges", "children"), Output("ck-rows", "data"), Output("ck-attention", "children"),
    Output("ck-attention-count", "children"), Output("ck-trend-graph", "figure"),
    Output("ck-trend-note", "children"), Output("shell-freshness", "children", allow_duplicate=True),
    Input("ck-tick", "n_intervals"), State("ck-lang", "data"), prevent_initial_call=True,
)
def refresh_cockpit(_tick: int, lang: str) -> tuple[Any, ...]:
    """One tick: every panel again from the cache; a failing part shows in its panel."""
    lang = valid_lang(lang)
    v = TICKS.get((lang, scope.current().view_key), lambda: render(lang))   # one render per scope
    return (v["gauges"], v["rows"], v["attention"], v["attention_count"], v["trend"], v["trend_note"],
            v["freshness"])


@callback(Output("ck-ranking-body", "children"), Output({"type": ARROW_TYPE, "key": ALL}, "children"),
          Input("ck-rows", "data"), Input("ck-sort", "data"), State("ck-lang", "data"),
          prevent_initial_call=True)
def refresh_ranking(rows: dict[str, Any] | None, sort: dict[str, Any] | None, lang: str) -> tuple[Any, Any]:
    """The ranking table in the chosen order (sorting needs no new data)."""
    columns = _columns(valid_lang(lang))
    sort = _valid_sort(sort, columns)
    arrows = dict(zip((c.key for c in columns), sort_arrows(columns, sort["key"], sort["ascending"]), strict=True))
    return _ranking_body(rows, sort, columns), [arrows.get(k, "") if isinstance(k, str) else ""
                                                for k in _arrow_keys(columns)]


def _arrow_keys(columns: list[Column]) -> list[Any]:
    """The header keys whose arrows the request asks for, whatever their number (outside a
    request: every column's, in order)."""
    try:
        outputs = ctx.outputs_list[1]
    except (MissingCallbackContextException, IndexError, KeyError, TypeError):
        return [c.key for c in columns]
    return [o["id"].get("key") if isinstance(o, dict) and isinstance(o.get("id"), dict) else None
            for o in outputs]


@callback(Output("ck-sort", "data"), Input({"type": SORT_TYPE, "key": ALL}, "n_clicks"),
          State("ck-sort", "data"), State("ck-lang", "data"), prevent_initial_call=True)
def on_sort(_clicks: list[int | None], sort: dict[str, Any] | None, lang: str) -> Any:
    """A heading click sorts by that column: worst first, a second click reverses."""
    key = ctx.triggered_id.get("key") if isinstance(ctx.triggered_id, dict) else None
    columns = _columns(valid_lang(lang))
    clicked = isinstance(_clicks, list) and any(isinstance(n, int) and n > 0 for n in _clicks)
    if not isinstance(key, str) or key not in {c.key for c in columns} or not clicked:
        return no_update
    current = _valid_sort(sort, columns)
    if current["key"] == key:
        return {"key": key, "ascending": not current["ascending"]}
    cat = runtime.current().catalogue
    return {"key": key, "ascending": model.default_ascending({i.id: i for i in cat}, key)}


def _valid_sort(sort: Any, columns: list[Column]) -> dict[str, Any]:
    """The sort a payload asks for, if it names a column; else the default."""
    if isinstance(sort, dict) and isinstance(sort.get("key"), str) and sort["key"] in {c.key for c in columns}:
        return {"key": sort["key"], "ascending": bool(sort.get("ascending"))}
    return dict(DEFAULT_SORT)


def _columns(lang: str) -> list[Column]:
    cat = runtime.current().catalogue
    shown = [i for i in model.headline(cat) if "district" in i.levels]
    return [Column("name", t("level_district", lang)), Column("score", t("ck_score", lang)),
            *(Column(i.id, i.name(lang), i.unit_in(lang), i.decimals) for i in shown)]


def _ranking_body(rows: Any, sort: dict[str, Any], columns: list[Column]) -> list[Any]:
    if not isinstance(rows, dict) or rows.get("error"):
        message = rows.get("error") if isinstance(rows, dict) else "no ranking data"
        return [html.Tr(html.Td(error_state(rows.get("lang", "zh") if isinstance(rows, dict) else "zh",
                                            str(message)), colSpan=len(columns) + 1))]
    ordered = model.sort_rows(rows.get("rows") or [], sort["key"], sort["ascending"])
    return ranking_rows(ordered, columns)


# ---- one pass over the data ------------------------------------------------------------------

def render(lang: str) -> dict[str, Any]:
    """Every panel's content from one pass over the cache."""
    cockpit = runtime.current()
    cat, hb = cockpit.catalogue, cockpit.config.heartbeat
    indicators = list(cat)
    now = now_utc()
    fresh = Freshness()
    wanted = [i.id for i in indicators if i.weight > 0 or i.headline or i.alarm is not None]

    def read(what: str, fetch: Callable[[], Any], *, dates_screen: bool = True) -> tuple[Any, str | None]:
        try:
            frame = fetch()
        except Exception as exc:  # one broken read must not blank the page
            log.exception("cockpit read %s failed", what)
            return None, str(exc)
        fresh.add(frame, dates_screen=dates_screen)
        return frame, None

    tree, tree_err = read("areas", cockpit.data.areas, dates_screen=False)
    tree = AreaTree(tree.data) if tree is not None else None
    root = cockpit.data.root_id
    city, city_err = read("city", lambda: cockpit.data.latest(wanted, "city"))
    district_ids = [i for i in wanted if "district" in cat.get(i).levels]
    districts, district_err = read("districts", lambda: cockpit.data.latest(district_ids, "district"))
    since = (now - timedelta(minutes=model.OVERDUE_LOOKBACK_MINUTES)).replace(second=0, microsecond=0)
    # a site without an events source lists no overdue events, and says nothing failed
    events, events_err = (None, None) if events_missing(cockpit) else read("events", lambda: cockpit.data.events(since))
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    series, series_err = read("series", lambda: cockpit.data.series(
        [i.id for i in cat.weighted()], [root], end - timedelta(hours=24), end, timedelta(hours=1)),
        dates_screen=False)

    names = tree.names(lang) if tree is not None else {}
    names[root] = t("all_city", lang)
    shown = [cat.get(i) for i in wanted]   # a failed indicator blanks only its own gauge
    found = readings(city, shown, failure=city_err, not_connected=unconnected(cockpit.data, shown, "city"))
    values = {k: r.value for k, r in found.items() if not r.blank}
    out: dict[str, Any] = {}
    as_of = "—" if city is None else f"{city.as_of.astimezone(cockpit.tz):%Y-%m-%d %H:%M:%S}"
    out["gauges"] = [bullet(_bullet_view(i, found[i.id], lang, as_of)) for i in model.headline(cat)]

    if districts is None or tree is None:
        out["rows"] = {"error": district_err or tree_err, "lang": lang}
    else:
        ranking = model.district_ranking(indicators, districts.data, tree.at_level("district"), lang,
                                         hb.good_from, hb.warn_from)
        out["rows"] = {"rows": [_row(r, lang) for r in ranking], "error": None, "lang": lang}

    out["attention"], out["attention_count"] = _attention(
        lang, now, indicators, values if city is not None else None,
        districts.data if districts is not None else None, events.data if events is not None else None,
        names, [e for e in (city_err, district_err, events_err) if e], root)

    index_now = composite(indicators, values)
    out["trend"], out["trend_note"] = _trend(lang, indicators, series, series_err, index_now, now, root,
                                             _left_out(index_now, found, cat, lang))
    store = fresh.to_store()
    out["freshness"] = live_badge(fresh.as_of, lang, max_age_s=headline_age_s(cockpit),
                                  stale=fresh.stale, error=store["error"], tz=cockpit.tz)
    return out


def _left_out(index: Composite, found: dict[str, Reading], cat: Any, lang: str) -> str:
    """The weighted indicators the index could not use, and why."""
    lines = []
    for ind_id in index.missing:
        why = found[ind_id].reason if ind_id in found else ""
        lines.append(f"{cat.get(ind_id).name(lang)}: {why}" if why else cat.get(ind_id).name(lang))
    return "\n".join(lines)


def _bullet_view(ind: Indicator, reading: Reading, lang: str, as_of: str) -> BulletView:
    value = reading.value
    g = model.gauge(ind, value)
    target = "" if ind.target is None else f"{t('target', lang)} {format_number(ind.target, ind.decimals)}"
    note = " · ".join(x for x in (ind.definition(lang), ind.owner, ind.binding.source,
                                  f"{t('as_of', lang)} {as_of}") if x)
    status_text = t(f"band_{g.status}", lang) if g.status != "unknown" else t("status_unknown", lang)
    return BulletView(ind.id, ind.name(lang), format_number(value, ind.decimals), ind.unit_in(lang), target, g.status,
                      status_text, g.colour, g.bands, g.value_at, g.target_at, drill_href(ind, lang=lang), note,
                      reading.state, reading.reason, lang)


def _row(row: model.DistrictRow, lang: str) -> dict[str, Any]:
    """A ranking row as the page stores it: its name links to its weakest indicator's drill-down."""
    cat = runtime.current().catalogue
    weakest = cat.get(row.weakest) if row.weakest else next(iter(model.headline(cat)), next(iter(cat)))
    return {"id": row.area_id, "name": row.name, "score": row.score, "colour": STATUS_COLOURS[row.status],
            "href": drill_href(weakest, area=row.area_id, lang=lang),
            "weakest": t("ck_weakest", lang, name=weakest.name(lang)) if row.weakest else "",
            "values": row.values,
            "colours": {k: STATUS_COLOURS[s] for k, s in row.statuses.items() if s != "unknown"}}


def _attention(lang: str, now: datetime, indicators: list[Indicator], city: dict[str, float | None] | None,
               districts: Any, events: Any, names: dict[str, str], errors: list[str],
               root: str) -> tuple[Any, str]:
    """The needs-attention list and its count; a failed read shows above what is known."""
    try:
        by_area = model.values_by_area(districts) if districts is not None else {}
        if city is not None:
            by_area = {root: city, **by_area}
        alarms = model.indicators_in_alarm(indicators, by_area, names, lang, root)
        late = model.overdue_events(events, now) if events is not None else None
        map_href = "/map" + query({"layers": "areas,roads,events", "lang": "en" if lang == "en" else None})
        overdue = model.event_items(late, names, lang, map_href) if late is not None else []
    except Exception as exc:
        log.exception("cockpit attention failed")
        return error_state(lang, str(exc)), ""
    items = [_alarm_view(a, lang) for a in alarms] + [_event_view(e, lang) for e in overdue]
    shown = items[:MAX_ATTENTION]
    more = t("ck_more", lang, n=len(items) - len(shown)) if len(items) > len(shown) else ""
    body = attention_list(shown, t("ck_all_clear", lang), more)
    count = t("ck_attention_count", lang, a=len(alarms), e=len(overdue))
    if errors:
        return html.Div([error_state(lang, "; ".join(errors)), body]), count
    return body, count


def _alarm_view(a: model.Attention, lang: str) -> AttentionView:
    d = a.detail
    detail = t("ck_in_alarm", lang, value=f"{d['value']} {d['unit']}".strip(), alarm=d["alarm"])
    return AttentionView("!", f"{a.area} · {a.title}", detail, STATUS_COLOURS["alarm"], a.href, "indicator")


def _event_view(a: model.Attention, lang: str) -> AttentionView:
    d = a.detail
    n = d["overdue"]
    late = t("ck_overdue_m", lang, n=n) if n < 120 else t("ck_overdue_h", lang, h=n // 60, m=n % 60)
    detail = " · ".join((t(f"kind_{d['kind']}", lang), a.area, late, t("ck_deadline", lang, n=d["deadline"])))
    colour = STATUS_COLOURS["alarm"] if a.severity >= 1.0 else STATUS_COLOURS["warn"]
    return AttentionView(KIND_ICONS.get(d["kind"], "事"), a.title, detail, colour, a.href, "event")


def _trend(lang: str, indicators: list[Indicator], series: Any, error: str | None, index: Composite,
           now: datetime, root: str, left_out: str = "") -> tuple[Any, Any]:
    """The index trend figure and the line above it (the index now and how many indicators it
    is based on, or why the trend is missing)."""
    index_now = index.value
    cockpit = runtime.current()
    hb = cockpit.config.heartbeat
    try:
        if series is None:
            raise RuntimeError(error or "no series")
        points = model.index_trend(indicators, series.data, root)
        if index_now is not None:
            points.append((now, index_now))
    except Exception as exc:
        log.exception("cockpit trend failed")
        return no_update, error_state(lang, str(exc))
    local = [ts.astimezone(cockpit.tz).replace(tzinfo=None) for ts, _ in points]
    figure = trend_figure(local, [v for _, v in points], good_from=hb.good_from, warn_from=hb.warn_from,
                          colours=STATUS_COLOURS, name=t("city_index", lang))
    band = index_status(index_now, hb.good_from, hb.warn_from)
    note = html.Div([
        html.Span(t("ck_now", lang), className="ck-trend-label"),
        html.Span(format_number(index_now, 1), className="ck-trend-value",
                  style={"color": STATUS_COLOURS[band]}, id="ck-index-now"),
        html.Span(t(f"status_{band}", lang), className="ck-trend-status", style={"color": STATUS_COLOURS[band]}),
        html.Span(t("index_parts", lang, used=index.used, total=index.total), className="ck-trend-basis",
                  id="ck-index-basis", title=left_out),
    ], className="ck-trend-head")
    return figure, note
