"""The data service: the catalogue's meaning above the adapters.

:mod:`service.data` (``DataService``: cached reads, derived indicators, roll-ups over the area
hierarchy and time, windows, comparisons, health), :mod:`service.kpi` and
:mod:`service.period_values` (what pages show), :mod:`service.geo_routes` (``/geo`` bodies),
:mod:`service.walls` (video-wall heartbeats), :mod:`service.check` (``python -m service.check``)
and :mod:`service.runtime` (the running cockpit pages reach).
"""
