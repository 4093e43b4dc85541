"""城市地图 — the GIS map: an offline vector basemap, live layers, click-through and drill.

No tile server by default: the basemap is drawn from the city's own GeoJSON (outline,
districts, roads, water), served once by /geo and cached by the browser. Each tick sends
only the colours that changed, per feature id, into one paint store per layer
(assets/map.js restyles those features in place), and the event points.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import dash_leaflet as dl
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html

from citybrain.drill import drill_href
from citybrain.i18n import t, valid_lang
from citybrain.numbers import format_number
from citybrain.standards import aqi, tpi
from components.heartbeat import SEVERITY_COLOURS
from components.map_view import area_panel, event_panel, legend
from components.panels import error_state, live_badge
from components.ticker import TickAIO
from pages.common import Freshness, events_missing, indicator_colour, max_age_s, top_bar
from pages.map import model
from pages.map.deltas import DeltaBook, content_key, paint_update
from pages.map.model import LATER, OPENING_GEOMETRY, POINT_LAYERS  # noqa: F401  (what this page opens with)
from service import runtime

dash.register_page(__name__, path="/map", name="城市地图", title="城市地图 · City map", order=1)
log = logging.getLogger(__name__)

NS = "dashExtensions.cockpit."
PAINTED = ("areas", "roads", *POINT_LAYERS, "heat")   # assets/map.js PAINTED, in order
DEFAULT_ON = ("areas", "roads", "events", "cameras", "sensors")
BOOK = DeltaBook()


def fn(name: str) -> dict[str, str]:
    """A reference to a function of assets/map.js."""
    return {"variable": NS + name}


def paint_id(layer: str) -> str:
    """The id of the store that carries ``layer``'s live colours to the browser."""
    return f"map-paint-{layer}"


def live_layer(name: str, url: str | None, **style: Any) -> dl.GeoJSON:
    """A layer whose features are registered by id, to be restyled from its paint store.
    Without ``url`` it waits for assets/map.js to give it one (see ``LATER``)."""
    return dl.GeoJSON(url=url, id=f"map-{name}", hideout={"layer": name},
                      onEachFeature=fn("register"), **style)


def layout(lang: str | None = None, layers: str | None = None, kiosk: str | None = None,
           **_: Any) -> html.Div:
    """The map; ``?layers=all`` (or a comma list) chooses the layers shown at first, and
    ``?kiosk=1`` hides navigation and controls for a wall."""
    lang = valid_lang(lang)
    cockpit = runtime.current()
    cfg = cockpit.config
    every = model.offered_layers(cockpit, events_missing(cockpit))
    chosen = every if layers == "all" else tuple(n for n in (layers or "").split(",") if n in every)
    shown = chosen or tuple(n for n in DEFAULT_ON if n in every)
    root = cockpit.data.root_id
    levels = model.map_levels(cockpit)
    options = [{"label": i.name(lang), "value": i.id} for i in cockpit.catalogue
               if set(levels) & set(i.levels)]
    fitted = model.area_bounds(cockpit, root, "city")
    # fitted to the city's outline; a zoom given with it would win over the bounds
    view = ({"center": [(fitted[0][0] + fitted[1][0]) / 2, (fitted[0][1] + fitted[1][1]) / 2], "bounds": fitted}
            if fitted else {"center": [0.0, 0.0], "zoom": 3})
    # Each band of layers has its own pane, so the order on screen never depends on which
    # GeoJSON arrives first (one canvas draws in arrival order): basemap, areas, roads, then
    # the heat field and the points (assets/map_points.js). Only the areas and the event
    # pins take clicks; the panes above the areas let clicks through.
    basemap = [dl.GeoJSON(url="/geo/city.json", id="map-base-city", style=fn("basemapStyle"),
                          hideout={"line": "#3ec5ff", "weight": 2.5, "fill": "#0a1830",
                                   "fillOpacity": 0.6}, interactive=False)]
    if model.has_layer(cockpit, "water"):
        basemap.append(dl.GeoJSON(url="/geo/water.json", id="map-base-water", style=fn("waterStyle"),
                                  interactive=False))
    base = [dl.Pane(basemap, name="citybrain-basemap", style={"zIndex": 350, "pointerEvents": "none"})]
    if cfg.map.tile_url:
        base.insert(0, dl.TileLayer(url=cfg.map.tile_url, attribution=cfg.map.tile_attribution))
    layers = [
        live_layer("areas", f"/geo/{model.AREA_LAYER[levels[0]]}.json" if levels else None, style=fn("areaStyle")),
        dl.Pane([live_layer("roads", None, style=fn("roadStyle"), interactive=False)],
                name="citybrain-roads", style={"zIndex": 410, "pointerEvents": "none"}),
        live_layer("heat", None, pointToLayer=fn("heatBlob"), style=fn("heatStyle")),
        *[live_layer(name, None, pointToLayer=fn("pointCircle"), style=fn("pointStyle"))
          for name in POINT_LAYERS],
    ]
    # hidden until the first paint says otherwise, so a layer switched off never flashes
    paints = [dcc.Store(id=paint_id(name), data={"hidden": name not in shown}) for name in PAINTED]
    # Layers stay on the map and are switched by our own control through their paint:
    # dash-leaflet 1.1 breaks when a layer that its LayersControl removed is updated.
    events = dl.GeoJSON(id="map-events", data={"type": "FeatureCollection", "features": []},
                        cluster=True, zoomToBoundsOnClick=True,
                        superClusterOptions={"radius": 50, "maxZoom": 15},
                        pointToLayer=fn("eventMarker"), clusterToLayer=fn("eventCluster"))
    return html.Div([
        top_bar(lang, "/map", "map"),
        dcc.Store(id="map-lang", data=lang),
        dcc.Store(id="map-held", data={}),
        *paints, dcc.Store(id="map-painted", data=0),
        dcc.Store(id="map-geometry", data={f"map-{name}": f"/geo/{geo}.json" for name, geo in LATER.items()
                                           if name in every}),
        dcc.Store(id="map-geometry-fetched", data=0),
        TickAIO("map", seconds=cfg.heartbeat.tick_seconds, first_beat=True),
        html.Div([
            html.Div([
                html.Div([html.Label(t("indicator", lang)),
                          dcc.Dropdown(id="map-indicator", options=options, value=options[0]["value"],
                                       clearable=False, className="map-dropdown")],
                         className="map-control"),
                html.Div([html.Label(t("level", lang)),
                          dcc.RadioItems(id="map-level", value=levels[0] if levels else None, inline=True,
                                         options=[{"label": t(f"level_{v}", lang), "value": v}
                                                  for v in levels])],
                         className="map-control"),
                dcc.Checklist(id="map-layers-on", value=list(shown), inline=True,
                              className="map-control map-layer-toggles",
                              options=[{"label": t(f"layer_{n}", lang), "value": n}
                                       for n in every]),
            ], className="map-controls"),
            html.Div([
                dl.Map([*base, *layers, events,
                        dl.ScaleControl(position="bottomleft")],
                       id="map-map", **view,
                       attributionControl=False, className="map-canvas", preferCanvas=True),
                html.Div(id="map-legend", className="map-legend"),
            ], className="map-stage"),
        ], className="map-main"),
        html.Aside([html.H2(t("details", lang), className="panel-title"),
                    html.Div(t("click_hint", lang), id="map-side", className="map-side-body")],
                   className="map-side panel"),
    ], className="page page-map kiosk" if kiosk else "page page-map")


clientside_callback(
    ClientsideFunction(namespace="citybrainMap", function_name="fetchGeometry"),
    Output("map-geometry-fetched", "data"), Input("map-geometry", "data"),
    *[State(paint_id(name), "data") for name in PAINTED],
)
clientside_callback(
    ClientsideFunction(namespace="citybrainMap", function_name="paint"),
    Output("map-painted", "data"), *[Input(paint_id(name), "data") for name in PAINTED],
)


@callback(
    Output("map-areas", "url"), Output("map-events", "data"),
    *[Output(paint_id(name), "data") for name in PAINTED],
    Output("map-legend", "children"), Output("shell-freshness", "children", allow_duplicate=True),
    Output("map-held", "data"), Output(TickAIO.ids.ack("map"), "data"),
    Input(TickAIO.ids.beat("map"), "data"), Input("map-indicator", "value"), Input("map-level", "value"),
    Input("map-layers-on", "value"), State("map-lang", "data"), State("map-held", "data"),
    prevent_initial_call="initial_duplicate",
)
def refresh_map(beat: Any, indicator: str, level: str, shown: list[str] | None,
                lang: str, held: dict[str, Any] | None) -> tuple[Any, ...]:
    """Only the feature colours that changed since the screen's version, and the event
    points; geometry is never resent. A tick answers its beat, so the gate lets the next one
    through only then (ticks never overlap)."""
    # the page's first draw (no trigger) answers the first beat, each tick its own beat;
    # a control changed while a tick is out must not open the gate for it
    trigger = dash.ctx.triggered_id
    ack = (beat["n"] if trigger in (None, TickAIO.ids.beat("map")) and isinstance(beat, dict)
           and isinstance(beat.get("n"), int) else dash.no_update)
    try:
        return (*_map_updates(indicator, level, shown, lang, held), ack)
    except Exception as exc:  # the map keeps its picture and says what failed, never a dialog
        log.exception("map update failed")
        return (*_failed(valid_lang(lang), str(exc)), ack)


def _failed(lang: str, error: str) -> tuple[Any, ...]:
    """A failed update: everything on the map stays as it is; the legend corner shows the
    error and the freshness badge says there is no current data, until a tick succeeds."""
    badge = live_badge(None, lang, max_age_s=0, error=error)
    keep = [dash.no_update] * (2 + len(PAINTED))          # url, events and the paints
    return (*keep, [error_state(lang, error)], badge, dash.no_update)


def _map_updates(indicator: str, level: str, shown: list[str] | None, lang: str,
                 held: dict[str, Any] | None) -> tuple[Any, ...]:
    lang = valid_lang(lang)
    cockpit = runtime.current()
    levels = model.map_levels(cockpit)
    level = level if isinstance(level, str) and level in levels else (levels[0] if levels else "district")
    ind = cockpit.catalogue.get(indicator) if isinstance(indicator, str) and indicator in cockpit.catalogue \
        else next(iter(cockpit.catalogue))
    fresh = Freshness()
    offered = model.offered_layers(cockpit, events_missing(cockpit))
    on = {s for s in shown if isinstance(s, str)} & set(offered) if isinstance(shown, list) else set()
    area_colours, area_legend, frame = model.choropleth(cockpit, ind, level, lang)
    fresh.add(frame)
    # a layer this site's stores do not have is never read: it is simply not offered
    roads, cams, sensors, facs, parking, heat, faults = {}, {}, {}, {}, {}, {}, 0
    if "roads" in offered:
        roads, frame = model.road_colours(cockpit)
        fresh.add(frame)
    events: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    if "events" in on:
        events, frame = model.events_collection(cockpit, lang)
        fresh.add(frame)
    if "cameras" in offered:
        cams, _ = model.camera_colours(cockpit)
    if "sensors" in offered:
        sensors, sensor_frame = model.sensor_colours(cockpit)
        heat = model.heat_weights(sensor_frame.data)
    if "facilities" in offered:
        facs, faults, _ = model.facility_colours(cockpit)
    if "parking" in offered:
        parking, _ = model.parking_colours(cockpit)
    legends = [legend(area_legend.title, area_legend.items)] if "areas" in on else []
    extra = {
        "roads": legend(t("layer_roads", lang), [(lv.colour, lv.name_en if lang == "en" else lv.name_zh)
                                                 for lv in tpi.LEVELS]),
        "sensors": legend(t("layer_sensors", lang) + " AQI",
                          [(c.colour, c.name_en if lang == "en" else c.name_zh) for c in aqi.CATEGORIES]),
        "facilities": legend(f"{t('layer_facilities', lang)} · {faults} {t('faulty', lang)}",
                             [("#2ECC71", t("working", lang)), ("#FF4D4F", t("faulty", lang))]),
        "parking": legend(f"{t('layer_parking', lang)} {t('occupancy', lang)}",
                          [("#2ECC71", "< 70 %"), ("#F5C242", "70–90 %"), ("#FF4D4F", "≥ 90 %")]),
        "cameras": legend(t("layer_cameras", lang), [("#3EC5FF", t("online", lang)),
                                                     ("#5b6675", t("offline", lang))]),
        "events": legend(t("layer_events", lang), [(colour, t("severity", lang, n=level))
                                                   for level, colour in SEVERITY_COLOURS.items()]),
    }
    legends += [block for name, block in extra.items() if name in on]
    store = fresh.to_store()
    badge = live_badge(fresh.as_of, lang, max_age_s=max_age_s(cockpit, [ind]), stale=fresh.stale,
                       error=store["error"], tz=cockpit.tz)
    held_before = held if isinstance(held, dict) else {}
    held = dict(held_before)
    updates = {}
    for name, key, colours, radius in (
            ("areas", f"areas:{ind.id}:{level}", area_colours, None), ("roads", "roads", roads, None),
            ("cameras", "cameras", cams, 4.5), ("sensors", "sensors", sensors, 5.5),
            ("facilities", "facilities", facs, 3.5), ("parking", "parking", parking, 7)):
        extra = {"hidden": name not in on, **({"radius": radius} if radius else {})}
        updates[name], held[name] = paint_update(BOOK, name, key, colours, extra, held.get(name))
    heat_extra = {"hidden": "heat" not in on, "weights": heat}
    updates["heat"], held["heat"] = paint_update(BOOK, "heat", "heat", sensors, heat_extra, held.get("heat"))
    # the event points, only when they changed: a couple of hours of events weigh more
    # than a tick's colours
    held["events"] = content_key(events)
    events = dash.no_update if held_before.get("events") == held["events"] else events
    return (f"/geo/{model.AREA_LAYER[level]}.json", events, *[updates[name] for name in PAINTED],
            legends, badge, held)


@callback(Output("map-side", "children", allow_duplicate=True), Input("map-areas", "clickData"),
          State("map-lang", "data"), State("map-level", "value"), State("map-indicator", "value"),
          prevent_initial_call=True)
def on_area_click(feature: dict[str, Any] | None, lang: str, level: str, indicator: str | None = None) -> Any:
    """An area's KPIs, a button to drill into it on the map, and a link to its analysis."""
    lang = valid_lang(lang)
    if not isinstance(feature, dict) or not isinstance(feature.get("id"), str | int):
        return dash.no_update
    cockpit = runtime.current()
    try:
        row, facts = model.area_facts(cockpit, str(feature["id"]))
    except KeyError as exc:
        return error_state(lang, str(exc))
    shown = [(ind.name(lang), format_number(v, ind.decimals), ind.unit_in(lang),
              indicator_colour(ind, v)) for ind, v in facts]
    nxt = model.next_level(cockpit, row.level)
    name = row.name_en if lang == "en" else row.name_zh
    chosen = cockpit.catalogue.get(indicator) if isinstance(indicator, str) and indicator in cockpit.catalogue \
        else None
    analysis = (t("open_analysis", lang), drill_href(chosen, area=str(feature["id"]), lang=lang)) \
        if chosen is not None and row.level in chosen.levels else None
    return area_panel(name, t(f"level_{row.level}", lang), shown, area_id=str(feature["id"]),
                      drill_label=t("drill", lang, level=t(f"level_{nxt}", lang)) if nxt else None,
                      analysis=analysis)


@callback(Output("map-side", "children", allow_duplicate=True), Input("map-events", "clickData"),
          State("map-lang", "data"), prevent_initial_call=True)
def on_event_click(feature: dict[str, Any] | None, lang: str) -> Any:
    """An event's details, lifecycle, and the cameras and facilities near it."""
    lang = valid_lang(lang)
    props = feature.get("properties") if isinstance(feature, dict) else None
    props = props if isinstance(props, dict) else {}
    event_id = feature.get("id") if isinstance(feature, dict) and feature.get("id") else props.get("id")
    if props.get("cluster") or not isinstance(event_id, str | int):
        return dash.no_update
    cockpit = runtime.current()
    try:
        facts = model.event_facts(cockpit, str(event_id))
    except KeyError as exc:
        return error_state(lang, str(exc))
    video = facts.cameras[0].properties.get("stream_url") if facts.cameras else None
    return event_panel(facts.event, facts.cameras, facts.facilities, lang=lang, tz=cockpit.tz,
                       radius_m=model.LINK_RADIUS_M, video_url=video)


@callback(Output("map-level", "value"), Output("map-map", "viewport"),
          Output("map-areas", "url", allow_duplicate=True),
          Output(paint_id("areas"), "data", allow_duplicate=True),
          Input({"type": "map-drill", "area": ALL}, "n_clicks"), State("map-level", "value"),
          State("map-indicator", "value"), State("map-lang", "data"), prevent_initial_call=True)
def on_drill(clicks: list[int | None], level: str, indicator: str, lang: str) -> tuple[Any, ...]:
    """Fly to the clicked area and colour the next level down."""
    nothing = (dash.no_update,) * 4
    clicked = isinstance(clicks, list) and any(isinstance(n, int) and n > 0 for n in clicks)
    if not isinstance(ctx.triggered_id, dict) or not clicked:
        return nothing
    area_id = ctx.triggered_id.get("area")
    cockpit = runtime.current()
    areas = cockpit.data.areas().data.set_index("id")
    if not isinstance(area_id, str) or area_id not in areas.index or not isinstance(indicator, str) \
            or indicator not in cockpit.catalogue:
        return nothing
    area_level = areas.loc[area_id].level
    nxt = model.next_level(cockpit, area_level)
    if nxt is None:
        return nothing
    colours, _, _ = model.choropleth(cockpit, cockpit.catalogue.get(indicator), nxt, valid_lang(lang))
    viewport = {"bounds": model.area_bounds(cockpit, area_id, area_level), "transition": "flyToBounds"}
    return nxt, viewport, f"/geo/{model.AREA_LAYER[nxt]}.json", {"colours": colours, "hidden": False}
