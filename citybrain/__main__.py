"""``python -m citybrain check [--config FILE] [--json]``: a thin entry to the check command.

The command itself is :mod:`service.check` (also ``python -m service.check``); it is imported
only when invoked, so importing :mod:`citybrain` never loads the layers above it. Exit code
0 without problems, 1 with, 2 for a config error.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the command asked for (``check``)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "check":
        sys.stderr.write("usage: python -m citybrain check [--config FILE] [--json]\n")
        return 2
    from service.check import cli  # lazily: the layers above the core only when asked

    return cli(args[1:], prog="python -m citybrain check")


if __name__ == "__main__":
    sys.exit(main())
