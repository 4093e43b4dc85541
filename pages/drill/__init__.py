"""The drill-down every analysis page is built on (/drill, /traffic, /safety).

Its public face is what this module exports; the other pages use nothing else of it.
"""

from __future__ import annotations

from pages.drill.view import domain_layout, drill_page, guarded_panel, time_drill_id

__all__ = ["domain_layout", "drill_page", "guarded_panel", "time_drill_id"]
