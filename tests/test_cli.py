"""``python -m cnnbook``: train, summary and models."""

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cnnbook.__main__ import main
from cnnbook.train import History

FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_models_lists_names(capsys):
    assert main(["models"]) == 0
    assert {"lenet", "lenet5"} <= set(capsys.readouterr().out.split())


def test_summary_prints_the_layer_table():
    result = subprocess.run([sys.executable, "-m", "cnnbook", "summary", "--model", "lenet5", "--depth", "2"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.search(r"features\.c3\s+PartialConv\s+\(16, 10, 10\)\s+1,516", result.stdout)


def test_unknown_model_is_a_clear_error(capsys):
    assert main(["summary", "--model", "lenett"]) == 2
    assert "Did you mean 'lenet'" in capsys.readouterr().err


def test_bad_model_argument(capsys):
    assert main(["summary", "--model", "lenet", "--arg", "depth=3"]) == 2
    assert "depth" in capsys.readouterr().err


@pytest.mark.skipif(not FASHION.exists() and not __import__("os").environ.get("CI"),
                    reason="needs Debian's dataset-fashion-mnist (CI installs it)")
def test_train_writes_history_and_checkpoint(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CNNBOOK_QUICK", "1")
    args = ["train", "--model", "lenet", "--epochs", "1", "--optimizer", "adamw", "--device", "cpu",
            "--checkpoint", str(tmp_path / "lenet.pt"), "--save-history", str(tmp_path / "h.json")]
    assert main(args) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"model=lenet dataset=fashion-mnist epochs=1 test_acc=0\.\d{4} seconds=\d+ device=cpu", line)
    history = History.load(tmp_path / "h.json")
    assert history.summary_line() == line and (tmp_path / "lenet.pt").exists()
    assert main(args[:-2]) == 0  # resumes the finished run: nothing to train, same result
    assert capsys.readouterr().out.strip().splitlines()[-1].split(" seconds=")[0] == line.split(" seconds=")[0]


@pytest.mark.parametrize("args, message", [
    (["--data-root", "/nonexistent/typo"], "the data root '/nonexistent/typo' does not exist"),
    (["--dataset", "folder", "--data-root", "/nonexistent/typo"], "no train or val folder"),
])
def test_train_refuses_a_data_root_without_the_dataset(capsys, monkeypatch, args, message):
    """A typo in --data-root used to train on the system's copy instead."""
    called = []
    monkeypatch.setattr("cnnbook.__main__.fit", lambda *a, **k: called.append(1))
    assert main(["train", "--model", "lenet", "--device", "cpu", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and not called


def test_train_refuses_an_unknown_quick_mode_value(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CNNBOOK_QUICK", "maybe")
    assert main(["train", "--model", "lenet", "--device", "cpu", "--data-root", str(tmp_path)]) == 2
    assert "CNNBOOK_QUICK='maybe' means neither quick mode" in capsys.readouterr().err


def test_train_refuses_images_the_model_cannot_take(capsys, monkeypatch, tmp_path):
    """lenet5 wants 32x32: unpadded Fashion-MNIST is refused before training, not at its first step."""
    from test_data import write_idx
    write_idx(tmp_path / "data")
    monkeypatch.setenv("CNNBOOK_CACHE", str(tmp_path / "cache"))
    called = []
    monkeypatch.setattr("cnnbook.__main__.fit", lambda *a, **k: called.append(1))
    args = ["train", "--model", "lenet5", "--device", "cpu", "--data-root", str(tmp_path / "data")]
    assert main(args) == 2
    assert "lenet5 expects 1x32x32 images, got 1x28x28" in capsys.readouterr().err and not called
    assert main(args + ["--pad", "2"]) == 0 and called


# ---- train: before any work, the same run twice, auxiliary classifiers, resume checks ----

def tiny_fashion_mnist(root: Path, train: int = 32, test: int = 16) -> Path:
    """A learnable Fashion-MNIST of ``train`` + ``test`` images in torchvision's layout under ``root``."""
    from test_data import write_idx
    generator = torch.Generator().manual_seed(0)

    def split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        labels = torch.arange(n) % 10
        images = (torch.rand(n, 28, 28, generator=generator) * 60 + labels[:, None,
                                                                           None] * 19).to(torch.uint8)
        return images, labels.to(torch.uint8)

    write_idx(root / "FashionMNIST" / "raw", train=split(train), test=split(test))
    return root


def train_args(tmp_path: Path, *extra: str, model: str = "lenet") -> list[str]:
    return ["train", "--model", model, "--data-root", str(tmp_path / "data"), "--epochs", "1", "--batch-size",
            "8", "--schedule", "constant", "--no-augment", "--device", "cpu", *extra]


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNBOOK_CACHE", str(tmp_path / "cache"))
    tiny_fashion_mnist(tmp_path / "data")
    return tmp_path


def test_train_googlenet_trains_its_auxiliary_classifiers(tiny, capsys):
    args = train_args(tiny, "--save-history", str(tiny / "h.json"), "--arg", "width=0.125",
                      "--arg", "small_input=True", "--arg", "stem_pool=True", model="googlenet")
    assert main(args) == 0, capsys.readouterr().err
    assert len(History.load(tiny / "h.json").final["train_aux_loss"]) == 2


def test_the_same_command_gives_the_same_run(tiny, capsys):
    runs = []
    for name in ("a", "b"):
        assert main(train_args(tiny, "--seed", "3", "--optimizer", "adamw", "--checkpoint",
                               str(tiny / f"{name}.pt"), "--save-history",
                               str(tiny / f"{name}.json"))) == 0, capsys.readouterr().err
        runs.append((History.load(tiny / f"{name}.json"), torch.load(tiny / f"{name}.pt", weights_only=True)))
    (history_a, saved_a), (history_b, saved_b) = runs
    assert [e["train_loss"] for e in history_a.epochs] == [e["train_loss"] for e in history_b.epochs]
    assert all(torch.equal(saved_a["model"][k], saved_b["model"][k]) for k in saved_a["model"])
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "seeds the model's initial weights" in " ".join(capsys.readouterr().out.split())


def test_resume_with_another_batch_size_is_refused(tiny, capsys):
    checkpoint = tiny / "run.pt"
    assert main(train_args(tiny, "--checkpoint", str(checkpoint))) == 0
    saved = checkpoint.read_bytes()
    assert main(train_args(tiny, "--checkpoint", str(checkpoint), "--batch-size", "16")) == 2
    error = capsys.readouterr().err
    assert f"the checkpoint {checkpoint} was written by a different run" in error
    assert "batch_size=8 in the checkpoint, batch_size=16 now" in error and "steps_per_epoch=4" in error
    assert f"delete {checkpoint} or pass another checkpoint path" in error and checkpoint.read_bytes() == saved


def test_a_corrupt_checkpoint_is_named(tiny, capsys):
    checkpoint = tiny / "run.pt"
    checkpoint.write_bytes(b"\x00" * 100)
    assert main(train_args(tiny, "--checkpoint", str(checkpoint))) == 2
    error = capsys.readouterr().err
    assert f"the checkpoint {checkpoint} cannot be read" in error and "Delete it to start over" in error


@pytest.mark.parametrize("extra, message", [
    (["--save-history", "{tmp}/missing/h.json"],
     "the history file {tmp}/missing/h.json is in a folder that does not"),
    (["--checkpoint", "{tmp}/missing/run.pt"],
     "the checkpoint {tmp}/missing/run.pt is in a folder that does not"),
    (["--checkpoint", "{tmp}"], "the checkpoint {tmp} is a folder"),
    (["--lr", "nan"], "lr must be a finite number > 0, got nan"),
    (["--lr", "-1"], "lr must be a finite number > 0, got -1.0"),
    (["--epochs", "0"], "epochs must be a whole number, at least 1, got 0"),
    (["--batch-size", "0"], "batch_size must be a whole number, at least 1, got 0"),
    (["--label-smoothing", "1"], "label_smoothing must be below 1"),
    (["--weight-decay", "-0.1"], "weight_decay must be a finite number >= 0"),
    (["--aux-weight", "inf"], "aux_weight must be a finite number >= 0, got inf"),
], ids=["history-missing-folder", "checkpoint-missing-folder", "checkpoint-a-folder", "lr-nan", "lr-negative",
        "epochs-0", "batch-size-0", "label-smoothing-1", "weight-decay-negative", "aux-weight-inf"])
def test_bad_train_arguments_fail_before_any_work(tmp_path, capsys, extra, message):
    """No dataset exists under tmp_path: an error about anything else came before loading data."""
    extra = [e.format(tmp=tmp_path) for e in extra]
    args = ["train", "--model", "lenet", "--data-root", str(tmp_path), "--device", "cpu", *extra]
    assert main(args) == 2
    assert capsys.readouterr().err.startswith(f"error: {message.format(tmp=tmp_path)}")
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_in_use_is_refused(tiny, capsys):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tiny / "run.pt.lock").write_text(f"{sleeper.pid} {socket.gethostname()}")
        assert main(train_args(tiny, "--checkpoint", str(tiny / "run.pt"))) == 2
        assert f"in use by another run (process {sleeper.pid}" in capsys.readouterr().err
        assert not (tiny / "run.pt").exists()
    finally:
        sleeper.kill()
        sleeper.wait()
