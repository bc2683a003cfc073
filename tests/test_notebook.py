"""The example notebook runs top to bottom on the mock lab (executed with nbclient, as in CI)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOK = EXAMPLES / "charge_stability.ipynb"
VIDEO_NOTEBOOK = EXAMPLES / "video_mode.ipynb"
CELL_TIMEOUT_S = 300  # generous: the machine may be shared; the notebook takes ~10-30 s
# names jupyter_client replaces by the running interpreter when it starts a kernel
_THIS_PYTHON = {"python", f"python{sys.version_info[0]}",
                f"python{sys.version_info[0]}.{sys.version_info[1]}", sys.executable}


def kernel_for_this_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """'python3' if its kernel spec runs this interpreter, else a private spec that does.

    A fresh venv with ipykernel has 'python3' (argv 'python', which jupyter_client maps to
    ``sys.executable``); a user-level 'python3' spec may point elsewhere: then a spec for this
    interpreter is written under ``tmp_path`` and put on JUPYTER_PATH.
    """
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
        if spec.argv and spec.argv[0] in _THIS_PYTHON:
            return "python3"
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import write_kernel_spec

    kernels = tmp_path / "jupyter" / "kernels"
    write_kernel_spec(str(kernels / "dotstack-test"))  # argv[0] = sys.executable
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "dotstack-test"


def outputs_text(cell: Any) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def execute(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the notebook at ``path`` (committed without outputs) in a kernel of this Python."""
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "the committed notebook must not store outputs"
    kernel = kernel_for_this_python(tmp_path, monkeypatch)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name=kernel,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError (with the traceback) if any cell fails
    return nb


def test_example_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute(NOTEBOOK, tmp_path, monkeypatch)

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "the plot cell displayed no figure"
    final = outputs_text(code[-1])
    assert "station closed; 2 runs written" in final, final
    m = re.search(r"virtual-gate matrix within ([0-9.]+) of ground truth", final)
    assert m is not None, final
    assert float(m.group(1)) < 0.05, final  # the fit recovers the simulator's cross-couplings
    everything = "".join(outputs_text(c) for c in code)
    assert "completed" in everything and "'completed'" in everything  # run status, both readers


def test_video_mode_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute(VIDEO_NOTEBOOK, tmp_path, monkeypatch)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3, "the live display and the two plots show figures"
    everything = "".join(outputs_text(c) for c in code)
    assert "30 frames at" in everything and "completed" in everything
    final = outputs_text(code[-1])
    m = re.search(r"video vs DC virtual gates within ([0-9.]+)", final)
    assert m is not None, final
    assert float(m.group(1)) <= 0.05, final  # issue 8: fast and DC matrices agree
