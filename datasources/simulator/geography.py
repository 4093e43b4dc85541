"""The simulated city's geography, generated from the seed.

A jittered lattice of 24 × 16 cells: each cell is a grid (网格), 4 × 2 cells make a
street (街道), 2 × 4 streets a district (区): 6 districts, 48 streets, 384 grids. Roads
run along the lattice lines (808 segments), and cameras, environment sensors,
facilities and parking lots stand inside the cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from . import noise

DISTRICT_W, DISTRICT_H = 2, 4  # streets per district
ORIGIN = (114.84, 27.02)       # south-west corner (lon, lat)

DISTRICTS = [("云湖区", "Yunhu"), ("江北区", "Jiangbei"), ("桃源区", "Taoyuan"),
             ("新城区", "Xincheng"), ("高新区", "Gaoxin"), ("临港区", "Lingang")]
_FIRST = "文白长永滨望金兴"
_SECOND = "昌鹭和江城湖桥山"
_PINYIN = {"文": "Wen", "白": "Bai", "长": "Chang", "永": "Yong", "滨": "Bin", "望": "Wang",
           "金": "Jin", "兴": "Xing", "昌": "chang", "鹭": "lu", "和": "he", "江": "jiang",
           "城": "cheng", "湖": "hu", "桥": "qiao", "山": "shan"}
ROAD_NAMES = [("人民", "Renmin"), ("解放", "Jiefang"), ("中山", "Zhongshan"), ("井冈", "Jinggang"),
              ("庐陵", "Luling"), ("阳明", "Yangming"), ("吉州", "Jizhou"), ("白鹭洲", "Bailuzhou"),
              ("滨江", "Binjiang"), ("文山", "Wenshan"), ("城南", "Chengnan"), ("高铁", "Gaotie"),
              ("建设", "Jianshe"), ("和平", "Heping"), ("永叔", "Yongshu"), ("韶山", "Shaoshan"),
              ("长岗", "Changgang"), ("沿江", "Yanjiang"), ("螺湖", "Luohu"), ("天华", "Tianhua"),
              ("青原", "Qingyuan"), ("习溪", "Xixi"), ("禾埠", "Hebu"), ("梅林", "Meilin"),
              ("新干", "Xingan")]
ROAD_CLASS_SPEED = {"expressway": 80.0, "arterial": 55.0, "secondary": 40.0}
ROAD_CLASS_LANES = {"expressway": 6, "arterial": 4, "secondary": 2}
FACILITY_KINDS = {"street_light": 480, "water_node": 72, "power_node": 60}


@dataclass(frozen=True)
class Layout:
    """The lattice of one city: its size in cells, the cell size, where it starts, and how
    many point features it carries. ``Layout.scaled(1)`` is the default city; a larger
    scale keeps its extent, 6 districts and 48 streets, with finer grids, more road
    segments and many more point features (scale 3: 7,032 segments, 21,240 points)."""

    cols: int = 24
    rows: int = 16
    street_w: int = 4
    street_h: int = 2
    cell: tuple[float, float] = (0.012, 0.010)
    origin: tuple[float, float] = ORIGIN
    point_factor: int = 1
    scale: int = 1

    @classmethod
    def scaled(cls, scale: int) -> Layout:
        return cls(24 * scale, 16 * scale, 4 * scale, 2 * scale, (0.012 / scale, 0.010 / scale),
                   ORIGIN, 1 if scale == 1 else int(np.ceil(2.2 * scale ** 2)), scale)


@dataclass(frozen=True)
class Points:
    """Point features: id, kind, lon, lat, grid index, plus per-kind attributes."""

    frame: pd.DataFrame

    @property
    def grid_index(self) -> np.ndarray:
        return self.frame["grid_index"].to_numpy()


@dataclass(frozen=True)
class CityGeography:
    """Everything static about the city: areas, polygons, roads and point features."""

    areas: pd.DataFrame          # id, parent_id, level, name_zh, name_en, population, lon, lat
    polygons: dict[str, list[list[float]]]   # area id → closed ring of [lon, lat]
    grid_ids: np.ndarray         # (G,) grid ids in lattice order
    roads: pd.DataFrame          # id, name_zh, name_en, road_class, grid_index, length_km, coords
    cameras: Points
    sensors: Points
    facilities: Points
    parking: Points
    vertices: tuple[np.ndarray, np.ndarray]  # lattice vertex lon, lat, shape (cols+1, rows+1)
    cell_ij: np.ndarray                      # (G, 2) lattice cell of each grid, in grid order
    layout: Layout = Layout()

    @cached_property
    def grid_index_of(self) -> dict[str, int]:
        """Each grid id's column in the (T, G) metric arrays."""
        return {str(g): n for n, g in enumerate(self.grid_ids)}

    def grid_of_cell(self, grids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lattice (i, j) of grid indices."""
        ij = self.cell_ij[np.asarray(grids, dtype=int)]
        return ij[..., 0], ij[..., 1]

    def members(self, level: str) -> tuple[list[str], np.ndarray]:
        """Area ids at ``level`` and a (A, G) 0/1 matrix saying which grids each holds."""
        grids = self.areas[self.areas.level == "grid"]
        if level == "grid":
            return list(self.grid_ids), np.eye(len(self.grid_ids))
        if level == "city":
            return [self.areas.id.iloc[0]], np.ones((1, len(self.grid_ids)))
        column = {"street": "street_id", "district": "district_id"}[level]
        ids = list(self.areas[self.areas.level == level].id)
        index = {a: n for n, a in enumerate(ids)}
        matrix = np.zeros((len(ids), len(self.grid_ids)))
        matrix[grids[column].map(index).to_numpy(), np.arange(len(self.grid_ids))] = 1.0
        return ids, matrix


def build_city(seed: int, name_zh: str, name_en: str, scale: int = 1) -> CityGeography:
    """Generate the city for ``seed``; the same seed always gives the same city."""
    lay = Layout.scaled(scale)
    vx, vy = lattice(seed, lay)
    areas, polygons, grid_ids = _areas(seed, vx, vy, name_zh, name_en, lay)
    cell_ij = np.array([[i, j] for i in range(lay.cols) for j in range(lay.rows)])
    index = np.arange(lay.cols * lay.rows).reshape(lay.cols, lay.rows)
    return assemble(seed, areas, polygons, grid_ids, (vx, vy), cell_ij, index, lay)


def assemble(seed: int, areas: pd.DataFrame, polygons: dict[str, list[list[float]]],
             grid_ids: np.ndarray, vertices: tuple[np.ndarray, np.ndarray], cell_ij: np.ndarray,
             index: np.ndarray, lay: Layout) -> CityGeography:
    """Roads and point features on a lattice whose grids are known.

    ``index[i, j]`` is the grid index of lattice cell (i, j), or -1 outside the city.
    """
    vx, vy = vertices
    pop = areas.loc[areas.level == "grid", "population"].to_numpy()
    n = lay.point_factor
    return CityGeography(
        areas=areas, polygons=polygons, grid_ids=grid_ids, roads=_roads(vx, vy, lay, index),
        cameras=_points(seed, vx, vy, "camera", 240 * n, weights=pop, cell_ij=cell_ij),
        sensors=_points(seed, vx, vy, "sensor", 120 * n, weights=None, cell_ij=cell_ij),
        facilities=_facilities(seed, vx, vy, pop, lay, cell_ij),
        parking=_points(seed, vx, vy, "parking", 90 * n, weights=pop, cell_ij=cell_ij),
        vertices=(vx, vy), cell_ij=cell_ij, layout=lay,
    )


def lattice(seed: int, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Jittered lattice vertices (lon, lat), shape (cols + 1, rows + 1)."""
    i, j = np.meshgrid(np.arange(lay.cols + 1), np.arange(lay.rows + 1), indexing="ij")
    jx = noise.uniform(seed, noise.key("lattice-x"), i, j) - 0.5
    jy = noise.uniform(seed, noise.key("lattice-y"), i, j) - 0.5
    lon = lay.origin[0] + (i + 0.55 * jx) * lay.cell[0]
    lat = lay.origin[1] + (j + 0.55 * jy) * lay.cell[1]
    return lon, lat


def _ring(vx: np.ndarray, vy: np.ndarray, i0: int, j0: int, i1: int, j1: int) -> list[list[float]]:
    """The closed boundary of the lattice rectangle [i0, i1] × [j0, j1], counter-clockwise."""
    path = [(i, j0) for i in range(i0, i1)] + [(i1, j) for j in range(j0, j1)]
    path += [(i, j1) for i in range(i1, i0, -1)] + [(i0, j) for j in range(j1, j0, -1)]
    path.append((i0, j0))
    return [[round(float(vx[i, j]), 6), round(float(vy[i, j]), 6)] for i, j in path]


def _areas(seed: int, vx: np.ndarray, vy: np.ndarray, name_zh: str, name_en: str,
           lay: Layout) -> tuple[pd.DataFrame, dict[str, list[list[float]]], np.ndarray]:
    rows: list[dict[str, object]] = []
    polygons: dict[str, list[list[float]]] = {"city": _ring(vx, vy, 0, 0, lay.cols, lay.rows)}
    rows.append(dict(id="city", parent_id=None, level="city", name_zh=name_zh, name_en=name_en))
    names = [a + b for a in _FIRST for b in _SECOND]
    order = np.argsort(noise.uniform(seed, noise.key("street-names"), np.arange(len(names))))
    grid_ids = []
    ci, cj = lay.cols / 2, lay.rows / 2
    sw, sh = lay.street_w, lay.street_h
    street_n = 0
    for d in range(6):
        dx, dy = d % 3, d // 3
        did = f"D{d + 1:02d}"
        cw, ch = DISTRICT_W * sw, DISTRICT_H * sh
        polygons[did] = _ring(vx, vy, dx * cw, dy * ch, (dx + 1) * cw, (dy + 1) * ch)
        rows.append(dict(id=did, parent_id="city", level="district",
                         name_zh=DISTRICTS[d][0], name_en=f"{DISTRICTS[d][1]} District"))
        for s in range(DISTRICT_W * DISTRICT_H):
            si, sj = dx * DISTRICT_W + s % DISTRICT_W, dy * DISTRICT_H + s // DISTRICT_W
            sid = f"{did}S{s + 1:02d}"
            zh = names[order[street_n]]
            street_n += 1
            en = _PINYIN[zh[0]] + _PINYIN[zh[1]]
            polygons[sid] = _ring(vx, vy, si * sw, sj * sh, (si + 1) * sw, (sj + 1) * sh)
            rows.append(dict(id=sid, parent_id=did, level="street",
                             name_zh=f"{zh}街道", name_en=f"{en} Subdistrict"))
            for g in range(sw * sh):
                gi, gj = si * sw + g % sw, sj * sh + g // sw
                gid = f"{sid}G{g + 1:02d}"
                grid_ids.append((gi, gj, gid))
                polygons[gid] = _ring(vx, vy, gi, gj, gi + 1, gj + 1)
                dist = np.hypot((gi + 0.5 - ci) / ci, (gj + 0.5 - cj) / cj)
                pop = (900 + 7000 * np.exp(-1.6 * dist**2) * (
                    0.6 + 0.8 * noise.uniform(seed, noise.key("pop"), gi, gj)[0])) / lay.scale ** 2
                rows.append(dict(id=gid, parent_id=sid, level="grid", name_zh=f"{zh}第{g + 1}网格",
                                 name_en=f"{en} Grid {g + 1}", population=round(pop),
                                 street_id=sid, district_id=did, cell_i=gi, cell_j=gj))
    areas = pd.DataFrame(rows)
    # grids in lattice order (i-major) so that cell (i, j) is grid index i * rows + j
    grid_ids.sort()
    ordered = np.array([g for _, _, g in grid_ids])
    grid_rows = areas[areas.level == "grid"].set_index("id").loc[ordered].reset_index()
    areas = pd.concat([areas[areas.level != "grid"], grid_rows], ignore_index=True)
    centroids = {a: np.mean(ring[:-1], axis=0) for a, ring in polygons.items()}
    areas["lon"] = [round(float(centroids[a][0]), 6) for a in areas.id]
    areas["lat"] = [round(float(centroids[a][1]), 6) for a in areas.id]
    return areas, polygons, ordered


def _roads(vx: np.ndarray, vy: np.ndarray, lay: Layout, index: np.ndarray) -> pd.DataFrame:
    rows = []
    k = lay.scale
    for horizontal in (True, False):
        for a in range(lay.rows + 1 if horizontal else lay.cols + 1):
            for b in range(lay.cols if horizontal else lay.rows):
                i0, j0 = (b, a) if horizontal else (a, b)
                i1, j1 = (i0 + 1, j0) if horizontal else (i0, j0 + 1)
                line = a
                if (horizontal and line == lay.rows // 2) or (not horizontal and line == lay.cols // 2):
                    cls = "expressway"
                elif line % (4 * k) == 0:
                    cls = "arterial"
                else:
                    cls = "secondary"
                gi = min(i0, lay.cols - 1) if not horizontal else i0
                gj = min(j0, lay.rows - 1) if horizontal else j0
                grid = int(index[gi, gj])
                if grid < 0:   # along a cell outside the city: try the cell across the line
                    gi2 = gi - 1 if not horizontal else gi
                    gj2 = gj - 1 if horizontal else gj
                    grid = int(index[gi2, gj2]) if gi2 >= 0 and gj2 >= 0 else -1
                if grid < 0:
                    continue
                zh, en = ROAD_NAMES[(line * (3 if horizontal else 7)) % len(ROAD_NAMES)]
                suffix = {"expressway": ("大道", "Avenue"), "arterial": ("路", "Road"),
                          "secondary": ("街", "Street")}[cls]
                coords = [[float(vx[i0, j0]), float(vy[i0, j0])],
                          [float(vx[i1, j1]), float(vy[i1, j1])]]
                rows.append(dict(
                    id=f"{'H' if horizontal else 'V'}{a:02d}-{b:02d}",
                    name_zh=f"{zh}{suffix[0]}" if horizontal else f"{zh}北{suffix[0]}",
                    name_en=f"{en} {suffix[1]}" if horizontal else f"{en} North {suffix[1]}",
                    road_class=cls, grid_index=grid,
                    length_km=_km(coords[0], coords[1]), coords=coords))
    return pd.DataFrame(rows)


def _km(a: list[float], b: list[float]) -> float:
    lat = np.radians((a[1] + b[1]) / 2)
    dx = (b[0] - a[0]) * 111.32 * np.cos(lat)
    dy = (b[1] - a[1]) * 110.57
    return round(float(np.hypot(dx, dy)), 4)


def _points(seed: int, vx: np.ndarray, vy: np.ndarray, kind: str, n: int,
            weights: np.ndarray | None, cell_ij: np.ndarray) -> Points:
    k = noise.key(kind)
    picks = noise.uniform(seed, k, np.arange(n), 0)
    if weights is None:
        cells = (picks * len(cell_ij)).astype(int)
    else:
        cdf = np.cumsum(np.asarray(weights, dtype=float))
        cells = np.searchsorted(cdf / cdf[-1], picks)
    ci, cj = cell_ij[cells, 0], cell_ij[cells, 1]
    u = 0.15 + 0.7 * noise.uniform(seed, k, np.arange(n), 1)
    v = 0.15 + 0.7 * noise.uniform(seed, k, np.arange(n), 2)
    lon = bilinear(vx, ci, cj, u, v)
    lat = bilinear(vy, ci, cj, u, v)
    frame = pd.DataFrame({
        "id": [f"{kind[:3].upper()}{m + 1:04d}" for m in range(n)], "kind": kind,
        "lon": lon.round(6), "lat": lat.round(6), "grid_index": cells,
    })
    if kind == "parking":
        frame["capacity"] = (100 + 1100 * noise.uniform(seed, k, np.arange(n), 3)).round().astype(int)
    if kind == "camera":
        frame["stream_url"] = [f"/assets/video/camera.svg?camera={cid}" for cid in frame.id]
    return Points(frame)


def bilinear(v: np.ndarray, i: np.ndarray, j: np.ndarray, u: np.ndarray,
              w: np.ndarray) -> np.ndarray:
    return ((1 - u) * (1 - w) * v[i, j] + u * (1 - w) * v[i + 1, j]
            + u * w * v[i + 1, j + 1] + (1 - u) * w * v[i, j + 1])


def _facilities(seed: int, vx: np.ndarray, vy: np.ndarray, pop: np.ndarray, lay: Layout,
                cell_ij: np.ndarray) -> Points:
    parts = []
    for kind, n in FACILITY_KINDS.items():
        p = _points(seed, vx, vy, kind, n * lay.point_factor, weights=pop if kind == "street_light" else None,
                    cell_ij=cell_ij).frame
        parts.append(p)
    return Points(pd.concat(parts, ignore_index=True))
