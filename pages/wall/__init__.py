"""The video wall page: ``page`` registers it (layout and callbacks)."""
