"""指标分析 — the indicator explorer for analysts: any catalogue indicator, any area level,
a date range, up to five areas side by side, and the period before (or a year before) as
dashed lines on the same axis, with a summary per area and PNG / CSV export.

The whole query lives in the URL (indicator, level, areas, start, end, grain, compare), so
a link can be shared: the page is rendered from it, a change of the controls navigates to
the new URL (in the browser, without reloading), and the back button walks back. URL
parameters and control values alike are checked on the server (:mod:`pages.explore.model`);
a bad one shows a message naming it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

import dash
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from citybrain.areas import AreaTree
from citybrain.catalogue import DOMAINS, Catalogue
from citybrain.i18n import t, valid_lang
from citybrain.timegrain import EARLIEST_YEAR, Period
from components.explore import PALETTE, Choices, Line, chart, controls, line_figure, summary_grid
from components.panels import error_state, freshness_badge, panel
from pages.common import now_utc, top_bar
from pages.explore import model
from pages.explore import values as numbers
from pages.explore.model import ExploreError, ExploreState
from service import runtime, scope

dash.register_page(__name__, path=model.PATH, name="指标分析", title="指标分析 · Explorer", order=5)

log = logging.getLogger(__name__)
RULES = {"mean": "mean", "sum": "sum", "daily_total": "sum", "max": "max", "min": "min", "latest": "latest"}
WEEKDAYS = {"zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
            "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def layout(lang: str | None = None, **params: Any) -> html.Div:
    """The explorer for the query in the URL; a bad parameter shows a message, and the
    controls start from the defaults so the query can be put right."""
    lang = valid_lang(lang)
    cockpit = runtime.current()
    now = now_utc()
    try:
        tree = AreaTree(cockpit.data.areas().data)
    except Exception as exc:  # no hierarchy: nothing to choose from
        log.exception("explorer: area hierarchy unavailable")
        return _page(lang, None, [message(lang, exc)])
    try:
        state = model.read_state(cockpit.catalogue, tree, cockpit.tz, now, params, lang)
        result = render(cockpit, state, now)
    except ExploreError as exc:
        result = [message(lang, str(exc), public=True)]
        try:
            state = model.read_state(cockpit.catalogue, tree, cockpit.tz, now, {}, lang)
        except ExploreError:
            return _page(lang, None, result)
        return _page(lang, None, result, _choices(cockpit.catalogue, tree, state, now))
    return _page(lang, state, result, _choices(cockpit.catalogue, tree, state, now))


def _page(lang: str, state: ExploreState | None, result: list[Any], choices: Choices | None = None) -> html.Div:
    other = None if lang == "en" else "en"
    return html.Div([
        top_bar(lang, model.PATH, "explore", lang_href=state.href(lang=other) if state else None),
        dcc.Location(id="explore-nav", refresh="callback-nav"),
        dcc.Store(id="explore-lang", data=lang),
        html.Main([
            panel(t("explore_query", lang), controls(choices, lang) if choices else None,
                  class_name="explore-query"),
            html.Div(result, id="explore-result", className="explore-result"),
        ], className="explore-main"),
    ], className="page page-explore")


def message(lang: str, text: str | BaseException, *, public: bool = False) -> html.Section:
    """The panel a bad query shows instead of the chart (``public``: the query's own mistake,
    shown in our words; else a category and a reference)."""
    return panel(t("bad_request", lang), error_state(lang, text, public=public), panel_id="explore-message",
                 class_name="explore-message")


# ---- controls -----------------------------------------------------------------------------

def _choices(catalogue: Catalogue, tree: AreaTree, state: ExploreState, now: datetime) -> Choices:
    lang = state.lang
    chosen = [a.id for a in state.areas]
    return Choices(
        indicators=indicator_options(catalogue, lang), indicator=state.indicator.id,
        levels=level_options(model.level_choices(state.indicator, tree.levels_present()), lang),
        level=state.level,
        areas=area_options(tree, state.level, lang, chosen), chosen=chosen,
        start=state.start.isoformat(), end=state.end.isoformat(),
        earliest=date(EARLIEST_YEAR, 1, 1).isoformat(),
        latest=now.astimezone(runtime.current().tz).date().isoformat(),
        grain="auto" if state.auto_grain else state.grain, compare=state.compare, max_areas=model.MAX_AREAS)


def indicator_options(catalogue: Catalogue, lang: str) -> list[dict[str, Any]]:
    """Every catalogue indicator, grouped under its domain (the headings cannot be chosen)."""
    out: list[dict[str, Any]] = []
    for domain in DOMAINS:
        inds = catalogue.in_domain(domain)
        if not inds:
            continue
        heading = t(f"domain_{domain}", lang)
        out.append({"label": f"— {heading} —", "value": f"domain:{domain}", "disabled": True,
                    "search": heading})
        for ind in inds:
            unit = ind.unit_in(lang)
            out.append({"label": f"{ind.name(lang)}" + (f" ({unit})" if unit else ""), "value": ind.id,
                        "search": f"{ind.name_zh} {ind.name_en} {ind.id} {heading}"})
    return out


def level_options(levels: list[str], lang: str) -> list[dict[str, str]]:
    return [{"label": t("all_city", lang) if lv == "city" else t(f"level_{lv}", lang), "value": lv}
            for lv in levels]


def area_options(tree: AreaTree, level: str, lang: str, chosen: list[str]) -> list[dict[str, Any]]:
    """The city and the areas of ``level`` (with their parent, to tell streets and grids
    apart); once five are chosen the others cannot be added."""
    full = len(chosen) >= model.MAX_AREAS
    root = tree.root
    out: list[dict[str, Any]] = []
    if root is not None and level != "city":
        out.append({"label": f"{root.name(lang)} · {t('all_city', lang)}", "value": root.id})
    for area in tree.at_level(level):
        parent = area.parent_id if level in ("street", "grid") else None
        label = area.name(lang) + (f" · {tree.get(parent).name(lang)}" if parent and parent in tree else "")
        out.append({"label": label, "value": area.id, "search": f"{area.name_zh} {area.name_en} {area.id}"})
    for option in out:
        option["disabled"] = full and option["value"] not in chosen
    return out


@callback(Output("explore-nav", "href"), Output("explore-result", "children"),
          Output("explore-result", "className"),
          Input("explore-indicator", "value"), Input("explore-level", "value"),
          Input("explore-areas", "value"), Input("explore-dates", "start_date"),
          Input("explore-dates", "end_date"), Input("explore-grain", "value"),
          Input("explore-compare", "value"), State("explore-lang", "data"), prevent_initial_call=True)
def on_query(indicator: Any, level: Any, areas: Any, start: Any, end: Any, grain: Any, compare: Any,
             lang: Any) -> tuple[Any, Any, Any]:
    """The controls' query, checked, becomes the URL the page is rendered from; a bad one
    shows its message in place."""
    lang = valid_lang(lang)
    values = {"indicator": indicator, "level": level, "areas": areas, "start": start, "end": end,
              "grain": grain, "compare": compare}
    href, problem = next_href(str(ctx.triggered_id or ""), values, lang)
    if href is None:
        return no_update, [message(lang, problem or "", public=True)], "explore-result"
    return href, no_update, "explore-result is-pending"


def next_href(trigger: str, values: dict[str, Any], lang: str) -> tuple[str | None, str | None]:
    """The URL for the controls' ``values`` after a change of ``trigger``, or the message
    saying what is wrong. Another indicator keeps the level when it has it; another level
    starts from its first areas; clearing every area is an error, not the default."""
    params = {**values, "areas": [] if values.get("areas") is None else values["areas"]}
    cockpit = runtime.current()
    catalogue, indicator = cockpit.catalogue, values.get("indicator")
    try:
        tree = AreaTree(cockpit.data.areas().data)
    except Exception as exc:  # no hierarchy: nothing to choose from
        return None, str(exc)
    if trigger == "explore-indicator" and isinstance(indicator, str) and indicator in catalogue \
            and values.get("level") not in model.level_choices(catalogue.get(indicator), tree.levels_present()):
        params.update(level=None, areas=None)
    if trigger == "explore-level":
        params["areas"] = None
    try:
        state = model.read_state(catalogue, tree, cockpit.tz, now_utc(), params, lang)
    except ExploreError as exc:
        return None, str(exc)
    return state.href(), None


@callback(Output("explore-summary", "exportDataAsCsv"), Input("explore-summary-csv", "n_clicks"),
          State("explore-nav", "search"), prevent_initial_call=True)
def on_export(_clicks: int | None, search: Any = None) -> bool:
    """The summary rows as CSV, straight from the grid (the export, with the query it came
    from, is in the audit trail)."""
    scope.audit("export", what="explore", query=search[:500] if isinstance(search, str) else "")
    return True


# ---- results ------------------------------------------------------------------------------

def render(cockpit: runtime.Cockpit, state: ExploreState, now: datetime) -> list[Any]:
    """The chart panel and the summary panel for ``state``; a failed read shows in place."""
    lang, ind = state.lang, state.indicator
    grain_text = t(f"explore_grain_{state.grain}", lang)
    title = t("explore_chart", lang, indicator=ind.name(lang), start=state.start, end=state.end,
              grain=grain_text)
    try:
        ex = numbers.explore(cockpit.data, state, cockpit.tz, now)
    except Exception as exc:  # the controls stay usable
        log.exception("explorer read failed")
        return [panel(title, error_state(lang, str(exc)), panel_id="explore-chart-panel")]
    frames = [ex.current.frame] + ([ex.previous.frame] if ex.previous else [])
    errors = "; ".join(dict.fromkeys(f.error for f in frames if f.error))
    badge = _as_of_badge(ex.current.as_of, any(f.stale for f in frames), errors, now, lang, cockpit.tz)
    notes: list[Any] = []
    compared = state.previous_range()
    if compared:
        notes.append(html.Span(t("explore_against", lang, start=compared[0], end=compared[1]),
                               className="explore-note"))
    if errors:
        notes.append(html.Span(t("explore_partial", lang, error=errors), className="explore-warning"))
    figure = line_figure(_lines(ex, lang), unit=ind.unit_in(lang), decimals=ind.decimals, grain=state.grain)
    filename = f"{ind.id}-{state.start}-{state.end}"
    header = t(f"explore_range_{RULES.get(ind.time_rollup, 'mean')}", lang)
    return [
        panel(title, html.Div(notes, className="explore-notes"), chart("explore-graph", figure, filename),
              badge=badge, panel_id="explore-chart-panel", class_name="explore-chart-panel"),
        panel(t("explore_summary", lang),
              summary_grid("explore-summary", numbers.summary_rows(ex, lang), lang=lang, value_header=header,
                           compared=ex.previous is not None, filename=filename,
                           decimals=numbers.summary_places(ind),
                           note=f"{header} · {state.start} – {state.end}"),
              panel_id="explore-summary-panel", class_name="explore-summary-panel"),
    ]


def _as_of_badge(as_of: datetime | None, stale: bool, errors: str, now: datetime, lang: str,
                 tz: Any) -> html.Span:
    """How recent the range's data is: the usual freshness badge when a read failed or is
    stale, else the newest data time with its date (a past range is not stale data)."""
    if as_of is None or stale or errors:
        return freshness_badge(as_of, now, lang, stale=stale, error=errors or None, tz=tz)
    return html.Span(f"{t('as_of', lang)} {as_of.astimezone(tz):%Y-%m-%d %H:%M}", className="badge badge-fresh")


def _lines(ex: numbers.Exploration, lang: str) -> list[Line]:
    """One line per area, and its compared period dashed in the same colour."""
    grain = ex.state.grain
    # a month (even one the range cuts) sits on its first day, so months are evenly spaced
    form = {"hour": "%Y-%m-%d %H:%M", "day": "%Y-%m-%d", "month": "%Y-%m-01"}[grain]
    x = [b.start.strftime(form) for b in ex.current.buckets]
    now_labels = [bucket_label(b, grain, lang) for b in ex.current.buckets]
    lines = []
    for n, area in enumerate(ex.state.areas):
        colour = PALETTE[n % len(PALETTE)]
        lines.append(Line(area.name(lang), x, ex.current.values[area.id], now_labels, colour))
        if ex.previous is not None:
            lines.append(Line(t("explore_previous_of", lang, area=area.name(lang)), x,
                              ex.previous.values[area.id],
                              [bucket_label(b, grain, lang) for b in ex.previous.buckets], colour, dashed=True))
    return lines


def bucket_label(bucket: Period, grain: str, lang: str) -> str:
    """A point's own period as the hover names it: an hour, a day with its weekday, a month
    (with its days when the range cuts it)."""
    if grain == "day":
        return f"{bucket.label(lang)} {WEEKDAYS[lang][bucket.start.weekday()]}"
    if grain == "month":
        last = bucket.end - timedelta(days=1)
        whole = bucket.start.day == 1 and (last + timedelta(days=1)).day == 1
        return bucket.label(lang) if whole else f"{bucket.start:%Y-%m-%d} – {last:%Y-%m-%d}"
    return bucket.label(lang)
