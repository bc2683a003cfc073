"""examples/spin_qubit.ipynb runs top to bottom on the mock lab (executed with nbclient, as in
CI) and its runs recover the ground truth within issue 9's tolerances."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "spin_qubit.ipynb"


def _notebook_helpers() -> ModuleType:
    """tests/test_notebook.py's kernel selection and execution (one implementation)."""
    spec = importlib.util.spec_from_file_location("dotstack_notebook_helpers",
                                                  ROOT / "tests" / "test_notebook.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spin_qubit_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helpers = _notebook_helpers()
    nb = helpers.execute(NOTEBOOK, tmp_path, monkeypatch)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 6, "each experiment shows its plot"
    final = helpers.outputs_text(code[-1])
    assert "station closed; 6 runs written" in final, final
    assert "all within issue 9's tolerances: True" in final, final
