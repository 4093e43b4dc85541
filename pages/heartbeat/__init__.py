"""The city heartbeat (城市心跳, /): its view is also what the wall shows.

Its public face is what this module exports; the other pages use nothing else of it.
"""

from __future__ import annotations

from pages.heartbeat.model import pulse_title
from pages.heartbeat.view import render

__all__ = ["pulse_title", "render"]
