"""``python -m access``: see :mod:`access.cli`."""

from .cli import main

raise SystemExit(main())
