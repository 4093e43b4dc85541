"""The rules of ARCHITECTURE.md, checked: the import-linter contracts (one-way flow between the
layers, adapters independent, no cycles, pages independent) and one package per page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("cockpit", "drill", "explore", "heartbeat", "map", "safety", "traffic", "wall")


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"an import breaks a rule of ARCHITECTURE.md:\n{done.stdout}\n{done.stderr}"
    assert "0 broken" in done.stdout


def test_each_page_is_a_package_that_registers_in_its_page_module() -> None:
    loose = sorted(p.name for p in (ROOT / "pages").glob("*.py") if p.name not in {"__init__.py", "common.py"})
    assert loose == [], "page code lives in its package (pages/<name>/), shared helpers in pages/common.py"
    for name in PAGES:
        registering = [p.name for p in (ROOT / "pages" / name).glob("*.py")
                       if "register_page" in p.read_text(encoding="utf-8")]
        assert registering == ["page.py"], (name, registering)


def test_the_architecture_note_names_every_room() -> None:
    note = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for room in ("citybrain/", "datasources/", "service/", "components/", "pages/", "layouts/", "app.py",
                 *(f"pages/{name}/" for name in PAGES)):
        assert room in note, room
