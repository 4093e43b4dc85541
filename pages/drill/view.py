"""The drill-down every analysis page shares: KPI cards, bars by area and by time, the rows.

The drill state is the URL; a bar click asks the server for the next URL, and the
page is rendered again from it, so links can be shared and the back button walks up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from dash import ALL, Input, Output, Patch, State, callback, dcc, html, no_update

from citybrain.areas import AreaTree
from citybrain.catalogue import Indicator
from citybrain.drill import DOMAIN_PAGES, DrillError, DrillState
from citybrain.i18n import t, valid_lang
from citybrain.timegrain import PeriodError, parse
from components.detail_grid import detail_grid, download
from components.drill_charts import bar_figure, breadcrumbs, drill_graph
from components.kpi_card import kpi_card
from components.panels import error_state, freshness_badge, panel
from pages.common import now_utc, top_bar
from pages.drill import model
from service import drill, runtime, scope
from service.kpi import thresholds_apply

log = logging.getLogger(__name__)
Extras = Callable[[DrillState, AreaTree, datetime], Sequence[Any]]
# each domain page's own panels, by its path: registered when the page's module is imported
# (every worker imports every page at start-up), never when a layout renders, so a redraw in
# any worker finds them
_OWN_PANELS: dict[str, Extras] = {}


def domain_layout(domain: str, extras: Extras) -> Callable[..., html.Div]:
    """The layout of the page of one domain (its path from ``DOMAIN_PAGES``, its title the
    domain's i18n key): the domain's indicators from the catalogue, with the page's own
    panels built by ``extras``. The URL's parameters go straight to :func:`drill_page`."""
    path = DOMAIN_PAGES[domain]
    _OWN_PANELS[path] = extras

    def layout(lang: str | None = None, **params: Any) -> html.Div:
        return drill_page(path, domain, valid_lang(lang), params,
                          indicators=runtime.current().catalogue.in_domain(domain), extras=extras)
    return layout


def drill_page(path: str, title_key: str, lang: str, params: dict[str, Any], *,
               indicators: Sequence[Indicator], extras: Extras | None = None) -> html.Div:
    """A whole analysis page at ``path`` for the URL ``params`` (indicator, area, period)."""
    cockpit = runtime.current()
    now = now_utc()
    try:
        read = drill.read(cockpit, params, now, lang=lang, cards=indicators)
    except DrillError as exc:
        return html.Div([top_bar(lang, path, title_key),
                         html.Main(panel(t("bad_request", lang), error_state(lang, str(exc), public=True)),
                                   className="drill-main")], className="page page-drill")
    state = read.state
    store = {"path": path, "indicator": state.indicator.id, "area": state.area.id,
             "period": None if state.live else state.period.key, "lang": lang,
             "cards": [i.id for i in read.cards], "day": state.period.key}
    other = "zh" if lang == "en" else "en"
    return html.Div([
        top_bar(lang, path, title_key, lang_href=state.href(path, lang=other if other == "en" else None)),
        dcc.Store(id="drill-state", data=store),
        dcc.Location(id="drill-nav", refresh="callback-nav"),
        dcc.Interval(id="drill-tick", interval=60_000),
        html.Main(_main(cockpit, read, path, now, extras), id="drill-main", className="drill-main"),
    ], className="page page-drill")


def _main(cockpit: runtime.Cockpit, read: drill.DrillRead, path: str, now: datetime,
          extras: Extras | None) -> list[Any]:
    """KPI cards, the drill panel, the page's own panels, the detail rows."""
    return [html.Div(_kpis(cockpit, read, path), id="drill-kpis", className="kpi-grid"),
            *_with_extras(_drill_panels(cockpit, read, path, now),
                          extras(read.state, read.tree, now) if extras else [])]


def _with_extras(panels: list[Any], extras: Sequence[Any]) -> list[Any]:
    """The drill panel, then the page's own panels, then the detail rows."""
    return [*panels[:1], *extras, *panels[1:]]


def _kpis(cockpit: runtime.Cockpit, read: drill.DrillRead, path: str) -> list[Any]:
    state = read.state
    if read.kpis is None:
        return [error_state(state.lang, read.kpis_error or "")]
    names = {i.id: i.name(state.lang) for i in cockpit.catalogue}
    return [kpi_card(k, state.lang, state.href(path, indicator=k.indicator.id), cockpit.tz, names,
                     selected=k.indicator.id == state.indicator.id) for k in read.kpis]


def _drill_panels(cockpit: runtime.Cockpit, read: drill.DrillRead, path: str, now: datetime) -> list[Any]:
    state, tree = read.state, read.tree
    lang, ind = state.lang, state.indicator
    crumbs = html.Div([
        breadcrumbs([(a.name(lang), state.href(path, area=a.id if a.parent_id else None))
                     for a in tree.trail(state.area)], "crumbs-area"),
        breadcrumbs([(p.label(lang), state.href(path, period=p.key)) for p in state.period.trail()]
                    + ([] if not state.live else [(t("today_live", lang), None)]), "crumbs-time"),
        html.Span(t("drill_hint", lang), className="drill-hint"),
    ], className="drill-crumbs", id="drill-crumbs")
    if read.values is None:
        return [panel(ind.name(lang), crumbs, error_state(lang, read.values_error or ""), class_name="drill-panel")]
    view = model.build_view(state, tree, read.values, now)
    frame = view.values.frame
    badge = freshness_badge(frame.as_of, now, lang, stale=frame.stale, error=frame.error, tz=cockpit.tz)
    unit = ind.unit_in(lang)
    by_area = bar_figure(view.area_bars, unit=unit, decimals=ind.decimals,
                         target=ind.target if thresholds_apply(ind, view.areas[0].level) else None)
    by_time = bar_figure(view.time_bars, unit=unit, decimals=ind.decimals)
    columns = [(c, t(c, lang)) for c in ("area", "period", "value", "unit")] + [("area_id", "ID")]
    return [
        panel(ind.name(lang), crumbs, html.Div([
            html.Div([html.H3(t("by_area", lang, indicator=ind.name(lang), period=state.period.label(lang)),
                              className="chart-title"),
                      drill_graph("drill-by-area", by_area, f"{ind.id}-{state.area.id}-{state.period.key}")],
                     className="drill-chart"),
            html.Div([html.H3(t("by_time", lang, indicator=ind.name(lang), area=state.area.name(lang)),
                              className="chart-title"),
                      drill_graph("drill-by-time", by_time, f"{ind.id}-{state.area.id}-{view.span.key}")],
                     className="drill-chart"),
        ], className="drill-charts"), badge=badge, class_name="drill-panel"),
        panel(t("detail_rows", lang),
              detail_grid("drill-grid", view.rows, columns, lang, export_prefix="drill-export",
                          exportable=scope.current().may("export")),
              class_name="drill-grid-panel"),
    ]


def guarded_panel(lang: str, title_key: str, build: Callable[..., Any], *args: Any) -> html.Section:
    """A page's own panel built by ``build(*args)``; a failure shows its error in place."""
    try:
        body = build(*args)
    except Exception as exc:  # one broken panel must not blank the page
        log.exception("panel %s failed", title_key)
        body = error_state(lang, exc)
    return panel(t(title_key, lang), body, class_name=f"extra-panel extra-{title_key}")


def state_from_store(store: dict[str, Any] | None) -> tuple[DrillState, AreaTree]:
    """The drill state a callback's store names, checked again on the server."""
    if not isinstance(store, dict):
        raise DrillError("the page's drill state is missing")
    read = _read_store(store, kpis=False, values=False)
    return read.state, read.tree


def _read_store(store: dict[str, Any], *, kpis: bool, values: bool) -> drill.DrillRead:
    """The drill read of a page's store: its state checked again on the server."""
    cockpit = runtime.current()
    cat = cockpit.catalogue
    cards = [cat.get(i) for i in store.get("cards") or [] if isinstance(i, str) and i in cat]
    return drill.read(cockpit, store, now_utc(), lang="en" if store.get("lang") == "en" else "zh",
                      cards=cards, kpis=kpis, values=values)


@callback(Output("drill-nav", "href", allow_duplicate=True), Input("drill-by-area", "clickData"),
          State("drill-state", "data"), prevent_initial_call=True)
def on_area_click(click: dict[str, Any] | None, store: dict[str, Any]) -> Any:
    """A click on an area bar opens that area (one level down)."""
    key = _clicked_key(click)
    try:
        state, tree = state_from_store(store)
    except DrillError:
        return no_update
    if key is None or key not in tree or key == state.area.id:
        return no_update
    return state.href(store["path"], area=key if tree.get(key).parent_id else None)


def time_drill_id(name: str) -> dict[str, str]:
    """The id of a page's own chart whose bars carry period keys: a click drills into them."""
    return {"type": "time-drill", "chart": name}


@callback(Output("drill-nav", "href", allow_duplicate=True), Input("drill-by-time", "clickData"),
          Input(time_drill_id(ALL), "clickData"), State("drill-state", "data"),  # type: ignore[arg-type]
          prevent_initial_call=True)
def on_time_click(click: dict[str, Any] | None, others: list[dict[str, Any] | None],
                  store: dict[str, Any]) -> Any:
    """A click on a time bar opens that period (one grain down)."""
    from dash import ctx

    if ctx.triggered_id != "drill-by-time":
        click = next((c for c, spec in zip(others, ctx.inputs_list[1], strict=False)
                      if spec.get("id") == ctx.triggered_id), None)
    key = _clicked_key(click)
    try:
        state, _tree = state_from_store(store)
        period = parse(key, state.period.tz, now_utc()) if key else None
    except (DrillError, PeriodError):
        return no_update
    if period is None or period.key == state.period.key:
        return no_update
    return state.href(store["path"], period=period.key)


@callback(Output("drill-export-download", "data"), Input("drill-export-csv", "n_clicks"),
          Input("drill-export-xlsx", "n_clicks"), State("drill-state", "data"), prevent_initial_call=True)
def on_export(_csv: int | None, _xlsx: int | None, store: dict[str, Any]) -> Any:
    """The grid's rows, computed again on the server, as CSV or Excel."""
    from dash import ctx

    fmt = "xlsx" if ctx.triggered_id == "drill-export-xlsx" else "csv"
    try:   # a state the page never sent (no dict, no indicator) has nothing to export
        read = _read_store(store if isinstance(store, dict) else {}, kpis=False, values=True)
    except DrillError as exc:
        log.info("drill export refused: %s", exc)
        return no_update
    if read.values is None:
        raise read.values_error or DrillError("no values")
    state = read.state
    view = model.build_view(state, read.tree, read.values, now_utc())
    lang = state.lang
    columns = [("indicator", t("indicator", lang)), ("area_id", "ID"), ("area", t("area", lang)),
               ("period", t("period", lang)), ("value", t("value", lang)), ("unit", t("unit", lang))]
    scope.audit("export", what="drill", indicator=state.indicator.id, area=state.area.id,
                period=state.period.key, format=fmt, rows=len(view.rows))
    return download(view.rows, columns, fmt, f"{state.indicator.id}-{state.area.id}-{state.period.key}")


@callback(Output("drill-main", "children"), Output("drill-state", "data"), Input("drill-tick", "n_intervals"),
          State("drill-state", "data"), prevent_initial_call=True)
def refresh(_tick: int, store: dict[str, Any]) -> Any:
    """Each tick the KPI cards show the newest values; a page on 'today' that is still open
    at local midnight is drawn again for the new day."""
    now = now_utc()
    if not isinstance(store, dict):
        return [error_state("zh", "the page's drill state is missing", public=True)], no_update
    try:
        read = _read_store(store, kpis=True, values=False)
    except DrillError as exc:
        return [error_state("zh", str(exc), public=True)], no_update
    cockpit, state, path = runtime.current(), read.state, store.get("path")
    if path not in (*DOMAIN_PAGES.values(), "/drill"):
        return [error_state(state.lang, "the page's drill state names no drill page", public=True)], no_update
    if state.live and store.get("day") != state.period.key:   # midnight: the new day drawn whole
        read = _read_store(store, kpis=True, values=True)
        return _main(cockpit, read, path, now, _OWN_PANELS.get(path)), {**store, "day": state.period.key}
    main = Patch()
    main[0] = html.Div(_kpis(cockpit, read, path), id="drill-kpis", className="kpi-grid")
    return main, no_update


def _clicked_key(click: dict[str, Any] | None) -> str | None:
    """The key a clicked bar carries, if the payload looks like a bar click."""
    try:
        # with a unified hover, the click lists every trace's point: take the bars'
        key = next(p["customdata"] for p in click["points"] if "customdata" in p)  # type: ignore[index]
    except (TypeError, KeyError, StopIteration):
        return None
    return key if isinstance(key, str) and len(key) <= 64 else None

