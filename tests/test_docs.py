"""The documentation: the site builds with warnings as errors; `help(dotstack)` is useful and
``import dotstack`` stays light; the docs hooks lay out the sources and the CLI reference."""

from __future__ import annotations

import importlib.util
import os
import pydoc
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import dotstack

ROOT = Path(__file__).resolve().parents[1]
DOCS_PACKAGES = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python",
                 "mkdocs_jupyter")
BUILD_TIMEOUT_S = 900  # generous: a shared machine; the build takes ~20-40 s


def _missing_docs_packages() -> list[str]:
    missing = []
    for name in DOCS_PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


needs_docs = pytest.mark.skipif(
    bool(_missing_docs_packages()),
    reason=f"the docs extra is not installed (pip install -e '.[docs]'): missing "
           f"{', '.join(_missing_docs_packages())}",
)


def _mkdocs() -> str:
    """The ``mkdocs`` command of this interpreter's environment."""
    candidate = Path(sys.executable).parent / "mkdocs"
    found = str(candidate) if candidate.exists() else shutil.which("mkdocs")
    if found is None:
        pytest.skip("the mkdocs command is not on PATH")
    return found


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dotstack_docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the site ------------------------------------------------------------------------------
@needs_docs
def test_site_builds_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "MKDOCS": _mkdocs()}
    done = subprocess.run(["bash", str(ROOT / "docs" / "build.sh"), str(site)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert done.returncode == 0, f"strict docs build failed:\n{done.stdout}\n{done.stderr}"
    # the API reference is generated from the docstrings, across the folder mapping
    store = (site / "reference" / "store" / "index.html").read_text(encoding="utf-8")
    assert 'id="dotstack.store.RunWriter"' in store
    drivers = (site / "reference" / "drivers" / "index.html").read_text(encoding="utf-8")
    assert 'id="dotstack.drivers.protocols.DAC"' in drivers
    # the CLI reference names every command of the app
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for command in ("dotstack demo", "dotstack run", "dotstack runs", "dotstack mock-lab serve"):
        assert command in cli
    assert ":class:<code>" not in store and ":func:<code>" not in store  # Sphinx roles dropped
    interop = (site / "reference" / "interop" / "index.html").read_text(encoding="utf-8")
    assert "records them:</p>" in interop and "::</p>" not in interop  # reST literal markers
    # every example notebook is rendered (not executed: they hold no outputs)
    for notebook in sorted((ROOT / "examples").glob("*.ipynb")):
        page = site / "examples" / notebook.stem / "index.html"
        assert page.is_file(), f"{notebook.name} not rendered"


@needs_docs
def test_hooks_lay_out_the_package_as_it_imports(tmp_path: Path) -> None:
    hooks = _hooks()
    roots = hooks.package_roots(ROOT / "setup.py")
    assert roots["dotstack.drivers"] == "drivers"
    hooks.copy_tree(ROOT, roots, tmp_path)
    assert (tmp_path / "dotstack" / "__init__.py").is_file()
    assert (tmp_path / "dotstack" / "drivers" / "protocols.py").is_file()
    assert (tmp_path / "dotstack" / "sequencer" / "compiler.py").is_file()
    assert not list(tmp_path.rglob("__pycache__"))


@needs_docs
def test_hooks_refuse_a_setup_without_roots(tmp_path: Path) -> None:
    setup = tmp_path / "setup.py"
    setup.write_text("from setuptools import setup\nsetup()\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="no ROOTS"):
        _hooks().package_roots(setup)


@needs_docs
def test_cli_reference_lists_commands_and_options() -> None:
    import typer

    from dotstack.cli import app

    text = _hooks().cli_reference(typer.main.get_command(app), "dotstack")
    for heading in ("## `dotstack`", "### `dotstack demo`", "### `dotstack run`",
                    "#### `dotstack mock-lab serve`"):
        assert heading in text
    assert "`--seed" in text and "`--base-port" in text
    assert "`-p, --param" in text


@needs_docs
def test_experiments_reference_lists_each_experiment_and_its_parameters() -> None:
    from dotstack.experiments.dc import EXPERIMENTS

    text = _hooks().experiments_reference()
    for name in EXPERIMENTS:
        assert f"### `dotstack run {name}`" in text
    assert "Parameters of charge_stability" in text and "p1" in text


# -- help(dotstack) and a light import -------------------------------------------------------
def test_help_shows_the_docstring_and_public_names() -> None:
    text = pydoc.render_doc(dotstack, renderer=pydoc.plaintext)
    assert "hardware control for quantum-dot" in text
    for name in dotstack.__all__:
        assert name in text
    assert "load(run" in text  # the lazy functions are listed with their signatures


def test_public_names_resolve_lazily() -> None:
    from dotstack.station import LabStation
    from dotstack.store import list_runs, load, load_meta

    assert set(dir(dotstack)) >= set(dotstack.__all__)
    assert (dotstack.LabStation, dotstack.load) == (LabStation, load)
    assert (dotstack.load_meta, dotstack.list_runs) == (load_meta, list_runs)
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        _ = dotstack.nosuch


def test_import_dotstack_is_light() -> None:
    code = ("import sys, dotstack, dotstack.sequencer\n"
            "print(sorted(m for m in ('qcodes', 'zarr', 'xarray', 'pyvisa') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(sys.executable).parent,
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
