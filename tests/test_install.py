"""cnnbook as a reader without the repository gets it: a wheel in a fresh virtual environment.

The core install (no extras) runs the command line; the first code cell of a chapter
installs cnnbook where it is missing (pointed at the wheel with ``CNNBOOK_INSTALL_FROM``,
pip kept off the network) and chapter 1 then runs to its end.

A fresh environment is a plain ``python -m venv``. Installing torch into it would unpack
about 5 GB of CUDA wheels (minutes), so it gets this environment's torch stack instead:
torch, torchvision and the distributions they require, linked in through a ``.pth``
file. Nothing else of this environment is visible there, and pip installs everything
else cnnbook requires; the test checks that the book's extras are absent.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from packaging.requirements import Requirement

from cnnbook import models
from cnnbook.book import install_cell

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def torch_stack() -> list[metadata.Distribution]:
    """torch, torchvision and every distribution they require, as installed here."""
    wanted, found = ["torch", "torchvision"], {}
    while wanted:
        distribution = metadata.distribution(wanted.pop())
        name = distribution.metadata["Name"].lower().replace("_", "-")
        if name in found:
            continue
        found[name] = distribution
        for text in distribution.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(requirement.name)
    return list(found.values())


def run(command: list, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """Run ``command`` in ``cwd``: outside the repository, whose cnnbook/ Python would import first."""
    return subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """cnnbook's wheel, built from a copy of what it is made of."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "cnnbook-source"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    shutil.copytree(ROOT / "cnnbook", source / "cnnbook", ignore=shutil.ignore_patterns("__pycache__"))
    built = run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                 work / "dist", source], work)
    assert built.returncode == 0, built.stderr[-3000:]
    return next((work / "dist").glob("cnnbook-*.whl"))


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    """A fresh virtual environment with the torch stack linked in and cnnbook's wheel installed."""
    work = tmp_path_factory.mktemp("fresh")
    environment = work / "venv"
    assert run([sys.executable, "-m", "venv", environment], work).returncode == 0
    python = environment / "bin" / "python"
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                    work).stdout.strip())
    stack = work / "torch-stack"
    stack.mkdir()
    for distribution in torch_stack():
        here = Path(distribution.locate_file(""))
        for top in {Path(file).parts[0] for file in distribution.files if not str(file).startswith("..")}:
            if not (stack / top).exists() and (here / top).exists():
                (stack / top).symlink_to(here / top)
    (site / "torch-stack.pth").write_text(f"{stack}\n")
    installed = run([python, "-m", "pip", "install", "--quiet", "-c", ROOT / "constraints.txt", wheel],
                    work, timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return environment


def test_every_chapter_starts_with_the_install_cell():
    """The first code cell of every chapter installs cnnbook from the configured repository."""
    expected = install_cell.cell_source(install_cell.package_source())
    assert "github.com" in install_cell.package_source()
    for path in CHAPTERS:
        first = next(cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
        assert first.source == expected, f"run `python -m cnnbook.book.install_cell` ({path.name})"
        assert first.outputs == [], f"{path.name}: the install cell must print nothing where cnnbook is installed"


def test_core_install_runs_the_command_line(venv, tmp_path):
    python = venv / "bin" / "python"
    for extra in ("nbformat", "yaml", "jupyterlab"):   # the book's extras are not there
        assert run([python, "-c", f"import {extra}"],
                   tmp_path).returncode != 0, f"{extra} leaked into the fresh environment"
    where = run([python, "-c", "import cnnbook; print(cnnbook.__file__)"], tmp_path)
    assert str(venv) in where.stdout, where.stdout + where.stderr

    usage = run([python, "-m", "cnnbook", "--help"], tmp_path)
    assert usage.returncode == 0 and "{train,summary,models,student,grade,assignment}" in usage.stdout, usage.stderr
    listed = run([python, "-m", "cnnbook", "models"], tmp_path)
    assert listed.returncode == 0 and listed.stdout.split() == models.names(), listed.stderr
    table = run([python, "-m", "cnnbook", "summary", "--model", "lenet5"], tmp_path)
    here = run([sys.executable, "-m", "cnnbook", "summary", "--model", "lenet5"], tmp_path)
    assert table.returncode == 0 and table.stdout == here.stdout and "Total" in table.stdout, table.stderr

    assert FASHION_MNIST.is_dir(), "the real Fashion-MNIST is missing: sudo apt-get install dataset-fashion-mnist"
    environment = dict(os.environ, CNNBOOK_QUICK="1", CNNBOOK_CACHE=str(tmp_path / "cache"),
                       CNNBOOK_DEVICE="cpu")
    environment.pop("CNNBOOK_DATA", None)
    trained = run([python, "-m", "cnnbook", "train", "--model", "lenet", "--epochs", "1", "--batch-size",
                   "128", "--optimizer", "adamw", "--lr", "3e-3", "--no-augment"], tmp_path,
                  env=environment, timeout=300)
    assert trained.returncode == 0, trained.stderr[-3000:]
    accuracy = float(re.search(r"model=lenet dataset=fashion-mnist epochs=1 test_acc=([\d.]+)",
                               trained.stdout)[1])
    assert accuracy > 0.3, trained.stdout   # 16 steps on 2,048 images (0.48 measured); chance is 0.1

    refused = run([python, "-m", "cnnbook", "grade", tmp_path / "missing.ipynb"], tmp_path)
    assert refused.returncode == 2 and "cnnbook[book]" in refused.stderr, refused.stdout + refused.stderr


def test_install_cell_installs_cnnbook_and_chapter_1_runs(venv, wheel, tmp_path, monkeypatch):
    python = venv / "bin" / "python"
    assert run([python, "-m", "pip", "uninstall", "--yes", "cnnbook"], tmp_path).returncode == 0
    assert run([python, "-c", "import cnnbook"], tmp_path).returncode != 0
    kernel = run([python, "-m", "pip", "install", "--quiet", "-c", ROOT / "constraints.txt", "ipykernel"],
                 tmp_path, timeout=600)
    assert kernel.returncode == 0, kernel.stderr[-3000:]
    specs = tmp_path / "jupyter"
    assert run([python, "-m", "ipykernel", "install", "--prefix", specs, "--name", "fresh"],
               tmp_path).returncode == 0

    monkeypatch.setenv("CNNBOOK_INSTALL_FROM", str(wheel))
    monkeypatch.setenv("PIP_NO_INDEX", "1")   # offline: everything else cnnbook needs is there already
    monkeypatch.setenv("CNNBOOK_QUICK", "1")
    monkeypatch.setenv("CNNBOOK_CACHE", str(tmp_path / "cache"))
    notebook = nbformat.read(ROOT / "chapters" / "01_convolutions.ipynb", as_version=4)
    manager = KernelManager(kernel_name="fresh",
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs / "share/jupyter/kernels")]))
    NotebookClient(notebook, km=manager, timeout=600,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    printed = "".join(output.get("text", "") for output in code[0].outputs)
    assert f"Installing {wheel}" in printed, printed
    assert all(cell.execution_count for cell in code), "chapter 1 stopped early"
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    where = run([python, "-c", "import cnnbook; print(cnnbook.__file__)"], tmp_path)
    assert str(venv) in where.stdout, where.stdout + where.stderr
    # Now that cnnbook is there, the cell does nothing and prints nothing.
    again = run([python, "-c", code[0].source], tmp_path)
    assert again.returncode == 0 and again.stdout == again.stderr == ""


def test_setup_registers_the_cnnbook_kernel(tmp_path):
    """`make kernel` (also run by the set-up) registers this environment for the user's Jupyter and VS Code."""
    environment = dict(os.environ, JUPYTER_DATA_DIR=str(tmp_path / "data"))
    made = subprocess.run(["make", "-s", "kernel"], cwd=ROOT, env=environment, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    specs = KernelSpecManager(kernel_dirs=[str(tmp_path / "data" / "kernels")])
    spec = specs.get_kernel_spec("cnnbook")
    assert spec.display_name == "Python (cnnbook)"
    assert Path(spec.argv[0]).parent == Path(sys.executable).parent   # this environment's Python
    manager = KernelManager(kernel_name="cnnbook", kernel_spec_manager=specs)
    manager.start_kernel(cwd=str(tmp_path))
    try:
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=120)
        printed = []
        reply = client.execute_interactive("import cnnbook; print(cnnbook.__file__)", timeout=120,
                                           output_hook=lambda m: printed.append(m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok"
        assert "".join(printed).strip() == str(ROOT / "cnnbook" / "__init__.py")
        client.stop_channels()
    finally:
        manager.shutdown_kernel(now=True)
