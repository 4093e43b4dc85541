"""The cockpit's command line: ``python -m citybrain check [--config FILE] [--json]``.

``check`` reads every binding of the config once and reports what a new site must fix
(see :mod:`datasources.check`); exit code 0 without problems, 1 with, 2 for a config error.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the command asked for."""
    parser = argparse.ArgumentParser(prog="python -m citybrain", description="City Brain Cockpit tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="read every binding once and report what to fix",
                                description="Read every binding of the config once and report the "
                                            "areas, indicators and map layers, with what to fix.")
    check.add_argument("--config", help="the config file (default: $CITYBRAIN_CONFIG, else the shipped one)")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    from datasources.check import main as run_check  # lazily: the data layer only when asked

    return run_check(args.config, as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
