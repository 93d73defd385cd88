"""The retrospective's helpers: results parsed from the executed chapters, and model costs."""

import json
import re
from pathlib import Path

import pytest
import torch
import yaml

from cnnbook import models
from cnnbook.analysis import receptive_field, summary
from cnnbook.book.results import (
    MissingResultError,
    book_results,
    model_costs,
    parse_summary_line,
    throughput,
    toc_chapters,
    weight_depth,
)

ROOT = Path(__file__).resolve().parents[1]
LINE = "model={} dataset=fashion-mnist epochs={} test_acc={} seconds={} device=cpu\n"


def code_cell(source, *printed):
    outputs = [{"output_type": "stream", "name": "stdout", "text": text} for text in printed]
    return {"cell_type": "code", "source": source, "outputs": outputs, "metadata": {}, "execution_count": 1}


def write_book(root, chapters):
    """A book under ``root``: a toc and one notebook per (name, cells)."""
    (root / "chapters").mkdir()
    for name, cells in chapters.items():
        notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (root / "chapters" / f"{name}.ipynb").write_text(json.dumps(notebook))
    files = [f"chapters/{name}" for name in chapters]
    toc = {"format": "jb-book", "root": files[0],
           "parts": [{"caption": "All", "chapters": [{"file": f} for f in files[1:]]}]}
    (root / "_toc.yml").write_text(yaml.safe_dump(toc))


def test_the_main_cells_line_is_parsed_and_side_experiments_are_not(tmp_path):
    side = code_cell("for name in names:\n    history = fit(net, name)\n",
                     LINE.format("one 5x5 per stage", 3, 0.87, 160))
    main = code_cell("torch.manual_seed(0)\nhistory = fit(model, 'fashion-mnist', epochs=7)\n",
                     "epoch 7/7 ...\n", LINE.format("resnet20", 7, 0.928, 481), "done\n")
    write_book(tmp_path, {"00_preface": [code_cell("print(1)")], "08_resnet": [side, main]})
    [result] = book_results(tmp_path)
    assert (result.chapter, result.model, result.epochs, result.test_acc, result.seconds) == \
        ("08_resnet", "resnet20", 7, 0.928, 481)


def test_a_main_cell_without_its_line_names_the_chapter(tmp_path):
    unexecuted = code_cell("history = fit(model, 'fashion-mnist')\n")
    write_book(tmp_path, {"00_preface": [], "02_lenet": [unexecuted]})
    with pytest.raises(MissingResultError, match="02_lenet"):
        book_results(tmp_path)


def test_chapters_without_a_main_cell_have_no_row(tmp_path):
    write_book(tmp_path, {"00_preface": [code_cell("x = 1")], "01_convolutions": [],
                          "02_lenet": [code_cell("history = fit(m)", LINE.format("lenet", 15, 0.9159, 337))]})
    assert [r.chapter for r in book_results(tmp_path)] == ["02_lenet"]


def test_two_main_cells_are_an_error(tmp_path):
    cell = code_cell("history = fit(m)", LINE.format("lenet", 15, 0.9159, 337))
    write_book(tmp_path, {"00_preface": [], "02_lenet": [cell, cell]})
    with pytest.raises(ValueError, match="02_lenet has 2 cells"):
        book_results(tmp_path)


def test_a_folder_without_a_toc_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="_toc.yml"):
        book_results(tmp_path)


def test_parse_summary_line_takes_the_last_line():
    text = LINE.format("a", 1, 0.5, 10) + LINE.format("b", 2, 0.75, 20)
    assert parse_summary_line(text, "x").model == "b"
    assert parse_summary_line("no result here", "x") is None


def test_every_training_chapter_of_the_book_yields_a_row():
    training = [p.stem for p in toc_chapters(ROOT) if re.match(r"(0[2-9]|1[0-6])_", p.stem)]
    results = book_results(ROOT)
    assert training and [r.chapter for r in results] == training
    assert all(0 < r.test_acc < 1 and r.seconds > 0 and r.epochs > 0 for r in results)


@pytest.mark.parametrize("name, depth", [("lenet", 5), ("vgg16", 16), ("googlenet", 22), ("resnet50", 50),
                                         ("densenet121", 121)])
def test_weight_depth_counts_the_longest_path(name, depth):
    assert weight_depth(models.create(name)) == depth


def test_model_costs_agree_with_the_analysis_tools():
    model = models.create("lenet")
    costs = model_costs(model, (1, 28, 28))
    table = summary(model, (1, 28, 28))
    assert (costs.params, costs.macs, costs.activation_bytes) == \
        (table.total_params, table.total_macs, table.total_activation_bytes)
    assert costs.receptive_field == receptive_field(model, (1, 28, 28)).size[0]
    assert costs.depth == 5 and not costs.gated_by_whole_image


def test_attention_gates_are_flagged():
    costs = model_costs(models.create("resnest14d", num_classes=10), (3, 64, 64))
    assert costs.gated_by_whole_image and costs.receptive_field < 64 * 8


def test_throughput_measures_and_restores_the_threads():
    threads = torch.get_num_threads()
    model = models.create("lenet").train()
    assert throughput(model, (1, 28, 28), batch_size=4, repeats=2) > 0
    assert torch.get_num_threads() == threads and model.training
    with pytest.raises(ValueError, match="repeats"):
        throughput(model, (1, 28, 28), repeats=0)
