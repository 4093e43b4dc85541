"""National standards behind the cockpit's numbers: AQI (HJ 633-2012), TPI (GB/T 33171-2016)."""

from . import aqi, tpi
from .aqi import (
    CATEGORIES,
    POLLUTANTS,
    AqiCategory,
    AqiResult,
    category,
    daily_aqi,
    hourly_aqi,
    hourly_aqi_array,
    iaqi,
)
from .tpi import (
    LEVELS,
    ROAD_CLASSES,
    TrafficLevel,
    network_tpi,
    segment_level,
    tpi_from_congested_share,
    tpi_level,
)

__all__ = [
    "CATEGORIES",
    "LEVELS",
    "POLLUTANTS",
    "ROAD_CLASSES",
    "AqiCategory",
    "AqiResult",
    "TrafficLevel",
    "aqi",
    "category",
    "daily_aqi",
    "hourly_aqi",
    "hourly_aqi_array",
    "iaqi",
    "network_tpi",
    "segment_level",
    "tpi",
    "tpi_from_congested_share",
    "tpi_level",
]
