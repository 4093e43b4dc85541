"""Road congestion from the example platform's own segment table (``map.segments``), built in
real PostgreSQL and MariaDB: the roads layer, each segment's GB/T 33171 level, the traffic
page's ten most congested roads and the count of unknown road-class words.

The expectations are recomputed here from the tables with plain SQL and pandas; the speed
thresholds are written out below from GB/T 33171-2016, not taken from the code under test.
"""

from __future__ import annotations

import copy
import json
import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from citybrain.config import ConfigError, load_config
from datasources.crs import gcj02_to_wgs84
from service.data import DataService
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "platform"
TZ = ZoneInfo("Asia/Shanghai")
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB = "mysql+pymysql://root@127.0.0.1:3306/test"
REDIS = "redis://127.0.0.1:6379/0"

# GB/T 33171-2016 segment levels by mean speed (km/h): level 1 above the first bound, level 2
# above the second, ... level 5 at or below the last.
BOUNDS = {"expressway": (65, 50, 35, 20), "arterial": (40, 30, 20, 15), "secondary": (35, 25, 15, 10)}
WORDS = {"快速路": "expressway", "主干路": "arterial", "次干路": "secondary", "支路": "secondary"}


def gbt_level(speed: float, road_class: str) -> float:
    """The operating level of one segment, or NaN without a speed."""
    if speed is None or math.isnan(speed):
        return math.nan
    for level, bound in enumerate(BOUNDS[road_class], start=1):
        if speed > bound:
            return float(level)
    return 5.0


def reachable(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.connect():
            return True
    except Exception:  # noqa: BLE001
        return False
    finally:
        engine.dispose()


def write_config(raw: dict[str, Any], folder: Path, name: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[dict[str, Any]]:
    """The platform in one SQL store: its config (raw and loaded), data service and tables."""
    from examples.platform.build import build, drop

    kind = request.param
    base = PG if kind == "postgresql" else MARIADB
    require(reachable(base), f"{kind} at {base}")
    schema = f"rd_{uuid.uuid4().hex[:8]}"
    args = {"pg_url": base} if kind == "postgresql" else {"mysql_url": base}
    info = build(**args, schema=schema, days=2)
    url = f"{PG}?options=-csearch_path%3D{schema}" if kind == "postgresql" else info["mysql"]["url"]
    names = {n: n for n in ("road_segment", "road_speed")}
    raw = yaml.safe_load((EXAMPLE / "cockpit.yaml").read_text(encoding="utf-8"))
    raw["datasources"]["warehouse"].update(url=url)
    raw["datasources"]["live"].update(url=REDIS)
    raw["datasources"]["gis"]["root"] = str(EXAMPLE)
    for ds in raw["datasources"].values():
        ds.pop("url_env", None)
    if kind == "mariadb" and info["mysql"].get("database") is None:   # tables prefixed in the URL's db
        names = {n: info["mysql"]["tables"][n] for n in names}
        segments = raw["map"]["segments"]
        segments["geometry"]["table"], segments["speeds"]["table"] = names["road_segment"], names["road_speed"]
    folder = tmp_path_factory.mktemp(f"roads-{kind}")
    config = load_config(write_config(raw, folder, "cockpit"), env={})
    engine = sa.create_engine(url)
    try:
        yield {"raw": raw, "folder": folder, "config": config, "service": DataService(config),
               "engine": engine, "names": names, "info": info}
    finally:
        engine.dispose()
        drop(**args, schema=schema)


def read(platform: dict[str, Any], table: str) -> pd.DataFrame:
    with platform["engine"].connect() as conn:
        return pd.read_sql(sa.text(f"SELECT * FROM {platform['names'][table]}"), conn)


def expected_states(platform: dict[str, Any], words: dict[str, str] = WORDS) -> pd.DataFrame:
    """Per segment: the newest speed within 5 minutes of the table's newest time (not after
    now), and its level; recomputed in pandas from the two tables."""
    segs = read(platform, "road_segment")
    speeds = read(platform, "road_speed")
    speeds["stat_time"] = pd.to_datetime(speeds["stat_time"])
    now_local = datetime.now(TZ).replace(tzinfo=None)
    newest = speeds.loc[speeds.stat_time <= now_local, "stat_time"].max()
    window = speeds[(speeds.stat_time > newest - timedelta(minutes=5)) & (speeds.stat_time <= newest)]
    window = window.sort_values("stat_time").drop_duplicates("seg_id", keep="last")
    out = segs.merge(window, on="seg_id", how="left")
    out["speed"] = out["speed_kmh"].astype(float)
    out["level"] = [gbt_level(s, words[w]) if w in words else math.nan
                    for s, w in zip(out.speed, out.road_class, strict=True)]
    return out.set_index("seg_id")


def test_thresholds_written_here_are_the_standards() -> None:
    from citybrain.standards import tpi

    assert {k: tuple(map(float, v)) for k, v in BOUNDS.items()} == tpi.SPEED_THRESHOLDS


@pytest.mark.service
def test_roads_layer_is_the_segment_table(platform: dict[str, Any]) -> None:
    table = read(platform, "road_segment").set_index("seg_id")
    layer = platform["service"].layer("roads").data
    features = {f["id"]: f for f in layer["features"]}
    assert 40 <= len(table) <= 80 and set(features) == set(table.index)
    for seg_id, row in table.iterrows():
        props = features[seg_id]["properties"]
        assert (props["name_zh"], props["area_id"], props["road_class_word"]) == \
            (row.road_name, row.district_code, row.road_class)
        assert props["road_class"] == WORDS[row.road_class]
        assert props["length_km"] == pytest.approx(float(row.length_km))
    # stored in GCJ-02, drawn in WGS-84 (the map's display system)
    first = table.index[0]
    stored = json.loads(table.loc[first, "geometry"])["coordinates"][0]
    drawn = features[first]["geometry"]["coordinates"][0]
    assert tuple(drawn) == pytest.approx(gcj02_to_wgs84(*stored), abs=1e-6)


@pytest.mark.service
def test_levels_follow_gbt_33171_by_road_class(platform: dict[str, Any]) -> None:
    from examples.platform.roads import LATE_SEGMENT

    frame = platform["service"].feature_states("roads")
    got = frame.data.set_index("id")
    want = expected_states(platform)
    assert set(got.index) == set(want.index)
    assert {"id", "speed_kmh", "level", "flow_vph"} <= set(frame.data.columns)
    pd.testing.assert_series_equal(got.speed_kmh.sort_index(), want.speed.sort_index(), check_names=False)
    pd.testing.assert_series_equal(got.level.astype(float).sort_index(), want.level.sort_index(),
                                   check_names=False)
    assert math.isnan(got.loc[LATE_SEGMENT, "level"]), "no current speed: no level, never 畅通"
    assert got.level.notna().sum() == len(got) - 1
    newest = pd.Timestamp(want.stat_time.max()).tz_localize(TZ).tz_convert(UTC)
    assert pd.Timestamp(frame.as_of) == newest


def expected_top(want: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    ranked = want.dropna(subset=["level"]).reset_index()
    return ranked.sort_values(["level", "speed", "seg_id"], ascending=[False, True, True]).head(n)


def assert_same_ranking(ids: list[str], levels: list[float], speeds: list[float], want: pd.DataFrame,
                        n: int = 10) -> None:
    top = expected_top(want, n)
    assert levels == top.level.tolist() and speeds == top.speed.tolist()
    last = (top.level.iloc[-1], top.speed.iloc[-1])   # a tie at the cut may pick either segment
    tied = set(want[(want.level == last[0]) & (want.speed == last[1])].index)
    assert set(ids) - tied == set(top.seg_id) - tied


@pytest.mark.service
def test_top_ten_roads_are_the_slowest_by_level(platform: dict[str, Any]) -> None:
    from pages.traffic import model as dm

    service = platform["service"]
    roads = {f["id"]: f["properties"] for f in service.layer("roads").data["features"]}
    ranked = dm.top_congested(service.feature_states("roads").data, roads, "zh")
    assert len(ranked) == 10
    assert_same_ranking([r.id for r in ranked], [float(r.level) for r in ranked],
                        [r.speed_kmh for r in ranked], expected_states(platform))
    assert all(r.name.startswith(roads[r.id]["name_zh"]) for r in ranked)


@pytest.fixture()
def cockpit(platform: dict[str, Any]) -> Iterator[Any]:
    import app  # noqa: F401 - the pages register with the app
    from service import runtime

    previous = runtime._current
    runtime.install(runtime.build(platform["config"]))
    try:
        yield runtime.current()
    finally:
        runtime._current = previous


@pytest.mark.service
def test_traffic_page_ranks_the_drilled_districts_segments(platform: dict[str, Any], cockpit: Any) -> None:
    from citybrain.areas import AreaTree
    from citybrain.drill import read_state
    from datasources.base import utcnow
    from pages.map import model
    from pages.traffic import page as traffic

    assert "roads" in model.offered_layers(cockpit, None)
    colours, _ = model.road_colours(cockpit)
    assert len(colours) == len(read(platform, "road_segment"))
    tree = AreaTree(cockpit.data.areas().data)
    want = expected_states(platform)
    for area in (None, "360802"):
        state = read_state(cockpit.catalogue, tree, cockpit.tz, utcnow(), indicator="checkpoint_flow",
                           area=area, period=None, lang="zh")
        figure = traffic._top_roads(state, tree).figure
        trace = figure["data"][0]
        ids = [str(i) for i in trace["customdata"]]
        mine = want if area is None else want[want.district_code == area]
        assert_same_ranking(ids, [want.level[i] for i in ids], [want.speed[i] for i in ids], mine,
                            n=min(10, int(mine.level.notna().sum())))


@pytest.mark.service
def test_an_unknown_road_class_word_is_counted_and_named(platform: dict[str, Any]) -> None:
    raw = copy.deepcopy(platform["raw"])
    del raw["map"]["segments"]["road_classes"]["支路"]
    service = DataService(load_config(write_config(raw, platform["folder"], "no-branch"), env={}))
    got = service.feature_states("roads").data.set_index("id")
    branch = read(platform, "road_segment").query("road_class == '支路'").seg_id
    assert len(branch) == 6 and got.loc[branch, "level"].isna().all()
    rejects = service.health()["adapters"]["warehouse"]["details"]["area_rejects"]["road segments"]
    named = {reason: n for reason, n in rejects.items() if "'支路'" in reason}
    assert list(named.values()) == [6]
    assert next(iter(named)).startswith("map.segments.road_classes: the road-class word '支路' is not mapped")
    others = {w: c for w, c in WORDS.items() if w != "支路"}
    want = expected_states(platform, others)
    pd.testing.assert_series_equal(got.level.astype(float).sort_index(), want.level.sort_index(), check_names=False)


def _config_error(tmp_path: Path, change: Any) -> str:
    raw = yaml.safe_load((EXAMPLE / "cockpit.yaml").read_text(encoding="utf-8"))
    change(raw["map"]["segments"], raw)
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(raw, tmp_path, "bad"), env={})
    return str(caught.value)


def test_segments_config_mistakes_name_the_key(tmp_path: Path) -> None:
    def no_speed(seg: dict[str, Any], raw: dict[str, Any]) -> None:
        del seg["speeds"]["columns"]["speed"]

    def not_sql(seg: dict[str, Any], raw: dict[str, Any]) -> None:
        seg["source"] = "live"

    def bad_word(seg: dict[str, Any], raw: dict[str, Any]) -> None:
        seg["road_classes"]["快速路"] = "motorway"

    def bad_column(seg: dict[str, Any], raw: dict[str, Any]) -> None:
        seg["geometry"]["columns"]["id"] = "seg id; drop"

    assert "map.segments.speeds.columns: expected speed (km/h) or level" in _config_error(tmp_path, no_speed)
    assert "map.segments.source: expected a datasource of type sql" in _config_error(tmp_path, not_sql)
    assert "of type redis" in _config_error(tmp_path, not_sql)
    assert "map.segments.road_classes.快速路" in _config_error(tmp_path, bad_word)
    assert "map.segments.geometry.columns: expected column names" in _config_error(tmp_path, bad_column)
