"""Project-wide promises: dependency lists agree, CI runs the README's test command,
every chapter is in the book, executed, small, and in sync with its text twin."""

import json
import re
from pathlib import Path

import jupytext
import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def requirement_names(requirements):
    return {re.split(r"[<>=!~\[ ]", r, maxsplit=1)[0].lower(): r.replace(" ", "") for r in requirements}


def test_environment_yml_lists_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra, requirements in project["optional-dependencies"].items():
        wanted += [r for r in requirements if not r.startswith("cnnbook")]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    conda_side = requirement_names(r for r in pip if not r.startswith("-"))   # not the -c, -e lines
    assert conda_side == requirement_names(wanted)
    assert "-c constraints.txt" in pip, "pin the conda environment to the tested versions"


def test_constraints_pin_every_dependency():
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    pins = {name.lower(): version for name, version in pins.items()}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for name in requirement_names(project["dependencies"]):
        assert name in pins, f"constraints.txt does not pin {name}"
    assert pins["torch"].split(".")[:2] == ["2", "14"] and pins["torchvision"].split(".")[:2] == ["0", "29"]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"## Run the tests\s.*?```(?:bash)?\n(.+?)\n```", readme, re.S).group(1).strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert command in ci.splitlines(), f"{command!r} is not a line of .ci/run"


def test_every_chapter_is_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert sorted(files) == sorted(f"chapters/{p.stem}" for p in CHAPTERS)


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_is_executed_small_and_in_sync(notebook):
    assert notebook.stat().st_size < 2 * 1024 * 1024, "keep each notebook under 2 MB"
    cells = json.loads(notebook.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert code and all(c.get("execution_count") for c in code), "commit the chapter executed in full"
    twin = ROOT / "text" / f"{notebook.stem}.md"
    assert twin.exists(), f"missing text twin {twin.relative_to(ROOT)}"
    as_text = [(c.cell_type, c.source.strip()) for c in jupytext.read(twin).cells]
    as_notebook = [(c.cell_type, c.source.strip()) for c in jupytext.read(notebook).cells]
    assert as_text == as_notebook, f"run `jupytext --sync {notebook.relative_to(ROOT)}`"
