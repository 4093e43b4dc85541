"""Live attributes of the simulated city's map features, apart from their static geometry.

One row per feature id: roads carry speed and GB/T 33171 level, sensors their AQI,
facilities whether they are in a fault, parking lots their occupancy, cameras whether
they are online. The map restyles features from these without resending geometry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citybrain.standards import aqi, tpi

from . import metrics

STATE_LAYERS = ("roads", "sensors", "facilities", "parking", "cameras")


def states(ctx: metrics.Context, name: str) -> pd.DataFrame:
    """The live attributes of layer ``name`` at the context's (single) instant."""
    geo, s = ctx.geo, ctx.s
    if name == "roads":
        seg = metrics.segment_state(ctx)
        speed = seg["speed"][0]
        level = tpi.segment_level(speed, s.road_class)
        return pd.DataFrame({"id": geo.roads.id, "speed_kmh": speed.round(1), "level": level,
                             "flow_vph": seg["flow"][0].round()})
    if name == "sensors":
        conc = {k: v[0, geo.sensors.grid_index] for k, v in metrics.concentrations(ctx).items()}
        value = aqi.hourly_aqi_array(**conc)
        return pd.DataFrame({"id": geo.sensors.frame.id, "aqi": value,
                             "pm25": conc["pm25"].round(1)})
    if name == "facilities":
        faulty = metrics.facility_faulty(ctx)[0]
        return pd.DataFrame({"id": geo.facilities.frame.id, "kind": geo.facilities.frame.kind,
                             "faulty": faulty})
    if name == "parking":
        occ = metrics.parking_occupancy(ctx)[0]
        return pd.DataFrame({"id": geo.parking.frame.id, "occupancy": (100 * occ).round(1),
                             "capacity": s.park_capacity.astype(int)})
    if name == "cameras":
        cams = np.arange(len(geo.cameras.frame))
        online = ctx.smooth("camera-online", 4 * 3600, cams)[0] > -0.9
        return pd.DataFrame({"id": geo.cameras.frame.id, "online": online})
    raise KeyError(name)
