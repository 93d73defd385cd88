"""The book's own results and costs, gathered for the retrospective (chapter 17).

``book_results(root)`` reads, chapter by chapter in the order of ``_toc.yml``, the
summary line that each chapter's main training cell printed when the notebook was
executed, so the results are never retyped. ``model_costs`` and ``throughput``
compute the other columns of the chapter's table for a model of the zoo.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from torch import fx, nn

from ..analysis import receptive_field, summary
from ..analysis.receptive_field import eval_mode

__all__ = ["BookResult", "MissingResultError", "book_results", "parse_summary_line",
           "ModelCosts", "model_costs", "weight_depth", "throughput"]

# The main training cell assigns ``history = fit(`` at the top level of the cell;
# indented assignments (inside a loop over variants) are side experiments.
MAIN_CELL = re.compile(r"^history\s*=\s*fit\(", re.M)
SUMMARY_LINE = re.compile(r"model=(?P<model>.+?) dataset=(?P<dataset>\S+) epochs=(?P<epochs>\d+) "
                          r"test_acc=(?P<test_acc>[0-9.]+) seconds=(?P<seconds>\d+) device=(?P<device>\S+)")


class MissingResultError(ValueError):
    """A chapter's main training cell has no summary line: the notebook was committed unexecuted."""


@dataclass(frozen=True)
class BookResult:
    """One chapter's main training run, as its notebook recorded it."""

    chapter: str       # notebook stem, e.g. "08_resnet"
    model: str
    dataset: str
    epochs: int
    test_acc: float
    seconds: int       # wall-clock training time
    device: str


def parse_summary_line(text: str, chapter: str) -> BookResult | None:
    """The last summary line (as ``History.summary_line`` prints it) in ``text``, or None."""
    matches = list(SUMMARY_LINE.finditer(text))
    if not matches:
        return None
    m = matches[-1].groupdict()
    return BookResult(chapter, m["model"], m["dataset"], int(m["epochs"]), float(m["test_acc"]),
                      int(m["seconds"]), m["device"])


def toc_chapters(root: str | Path) -> list[Path]:
    """The notebooks of the book in reading order, as ``_toc.yml`` under ``root`` lists them."""
    root = Path(root)
    toc_path = root / "_toc.yml"
    if not toc_path.is_file():
        raise FileNotFoundError(f"{toc_path} not found: pass the root folder of the book (the one with _toc.yml).")
    toc = yaml.safe_load(toc_path.read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part["chapters"]]
    return [root / f"{f}.ipynb" for f in files]


def chapter_result(notebook: str | Path) -> BookResult | None:
    """The result of the main training cell of ``notebook``; None for a chapter without one."""
    notebook = Path(notebook)
    cells = [c for c in json.loads(notebook.read_text())["cells"]
             if c["cell_type"] == "code" and MAIN_CELL.search("".join(c["source"]))]
    if not cells:
        return None
    if len(cells) > 1:
        raise ValueError(f"{notebook.stem} has {len(cells)} cells that assign `history = fit(` at the top "
                         "level; keep one main training cell and name the others' histories differently.")
    printed = "".join("".join(out.get("text", "")) for out in cells[0].get("outputs", [])
                      if out.get("output_type") == "stream")
    result = parse_summary_line(printed, notebook.stem)
    if result is None:
        raise MissingResultError(f"chapter {notebook.stem}: its main training cell (`history = fit(...)`) "
                                 "printed no summary line. Execute the notebook in full mode and commit it.")
    return result


def book_results(root: str | Path) -> list[BookResult]:
    """Every chapter's main training result, in the order of the table of contents."""
    results = (chapter_result(path) for path in toc_chapters(root))
    return [r for r in results if r is not None]


# --------------------------------------------------------------------------- costs

@dataclass(frozen=True)
class ModelCosts:
    """What one forward pass of one image costs a model, and what a unit of it sees."""

    input_size: tuple[int, int, int]
    depth: int                  # weight layers on the longest path from input to output
    params: int
    macs: int                   # multiply-accumulates per image
    activation_bytes: int       # all layer outputs of one forward pass
    receptive_field: int        # of the last spatial layer's feature maps, in input pixels (square inputs)
    gated_by_whole_image: bool  # attention gates computed from the whole image multiply those maps


WEIGHT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
WEIGHT_FUNCTIONS = (nn.functional.conv2d, nn.functional.linear)


def weight_depth(model: nn.Module) -> int:
    """The number of weight layers (convolutions, linear layers) on the longest path through ``model``.

    Parallel branches and shortcuts do not add up: ResNet-50 has 50, GoogLeNet 22.
    The inference graph is traced (no auxiliary heads).
    """
    with eval_mode(model):
        graph = fx.symbolic_trace(model).graph
    modules = dict(model.named_modules())
    depth: dict[fx.Node, int] = {}
    for node in graph.nodes:
        weighted = ((node.op == "call_module" and isinstance(modules[node.target], WEIGHT_LAYERS))
                    or (node.op == "call_function" and node.target in WEIGHT_FUNCTIONS))
        depth[node] = max((depth[n] for n in node.all_input_nodes), default=0) + weighted
    return max(depth.values())


def model_costs(model: nn.Module, input_size: tuple[int, int, int]) -> ModelCosts:
    """Depth, parameters, MACs, activation memory and receptive field of ``model`` on ``input_size``.

    The receptive field follows the feature maps alone (``global_context=False``);
    ``gated_by_whole_image`` says whether attention gates, which see the whole
    image, multiply them, so that with the gates counted a unit sees everything.
    """
    table = summary(model, input_size, receptive_fields=False)
    maps = receptive_field(model, input_size, global_context=False).last_spatial
    gated = receptive_field(model, input_size).layer(maps.name).global_
    return ModelCosts(tuple(input_size), weight_depth(model), table.total_params, table.total_macs,
                      table.total_activation_bytes, maps.size[0], gated)


def throughput(model: nn.Module, input_size: tuple[int, int, int], *, batch_size: int = 1,
               repeats: int = 3, threads: int = 1) -> float:
    """Images per second of inference on the CPU: the median of ``repeats`` timed batches after a warm-up."""
    if batch_size < 1 or repeats < 1 or threads < 1:
        raise ValueError(f"batch_size, repeats and threads must be 1 or more, got {batch_size}, {repeats}, {threads}.")
    before = torch.get_num_threads()
    batch = torch.zeros(batch_size, *input_size)
    try:
        torch.set_num_threads(threads)
        times = []
        with eval_mode(model), torch.no_grad():
            model(batch)   # warm-up: the first call allocates
            for _ in range(repeats):
                start = time.perf_counter()
                model(batch)
                times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(before)
    return batch_size / statistics.median(times)
