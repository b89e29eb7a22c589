"""The house rules, checked: the layers of docs/architecture.md (import-linter's contracts in pyproject.toml: no
upward import, no import circle) and the linter's (ruff, configured in pyproject.toml)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_no_module_imports_upwards_or_in_a_circle():
    pytest.importorskip("importlinter")
    checked = _run("-c", "from importlinter.cli import lint_imports; "
                         "raise SystemExit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")
    assert checked.returncode == 0, checked.stdout[-6000:] + checked.stderr[-2000:]
    assert "2 kept, 0 broken" in checked.stdout


def test_the_layers_name_every_module_of_the_package():
    """A new top-level module must take its place in the picture: the layers contract is exhaustive."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        contracts = tomllib.load(handle)["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")
    assert layers["exhaustive"] is True and layers["containers"] == ["prox"]
    with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as handle:
        picture = handle.read()
    named = {name.strip() for layer in layers["layers"] for name in layer.replace("|", ":").split(":")}
    assert not [name for name in named if f"`prox.{name}" not in picture and f"prox.{name}" not in picture]


def test_ruff_passes_with_the_projects_configuration():
    pytest.importorskip("ruff")
    checked = _run("-m", "ruff", "check", "--no-cache", "src", "tests", "bench", "recipes", "examples")
    assert checked.returncode == 0, checked.stdout[-6000:] + checked.stderr[-2000:]
