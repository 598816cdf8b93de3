"""Every package folder is installed under the one import namespace, sales_assistant.* (pyproject.toml)."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ["actors", "application", "benchmarks", "cli", "config", "connectors", "core", "models", "policies",
           "store", "web"]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_listed_under_the_namespace():
    folders = {"sales_assistant." + ".".join(init.parent.relative_to(ROOT).parts)
               for top in PRODUCT for init in (ROOT / top).rglob("__init__.py")}
    assert set(_pyproject()["tool"]["setuptools"]["packages"]) == folders


def test_each_top_level_folder_maps_onto_the_namespace():
    assert _pyproject()["tool"]["setuptools"]["package-dir"] == {f"sales_assistant.{t}": t for t in PRODUCT}


def test_no_module_imports_a_folder_by_its_bare_name():
    """`from core.x import …` would load a second copy of the module beside sales_assistant.core.x."""
    bare = tuple(f"{kw} {t}{sep}" for kw in ("from", "import") for t in PRODUCT for sep in (".", " "))
    offenders = [f"{path.relative_to(ROOT)}:{n}" for top in [*PRODUCT, "tests"] for path in (ROOT / top).rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if line.lstrip().startswith(bare)]
    assert offenders == []
