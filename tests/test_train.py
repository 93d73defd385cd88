"""The trainer: learning, determinism, checkpoints, resume, Ctrl-C and NaN handling."""

import re

import pytest
import torch
from torch import nn

from cnnbook import train
from cnnbook.train import History, TrainingDiverged, fit


class Batches:
    """A fixed list of (x, y) batches; optionally raises KeyboardInterrupt in one epoch."""

    def __init__(self, x, y, batch_size=32, interrupt_in_epoch=None):
        self.batches = list(zip(x.split(batch_size), y.split(batch_size)))
        self.interrupt_in_epoch, self.epoch = interrupt_in_epoch, 0
        self.dataset_name, self.batch_size, self.num_samples = "blobs", batch_size, len(x)

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        for i, batch in enumerate(self.batches):
            if self.epoch + 1 == self.interrupt_in_epoch and i == 2:
                raise KeyboardInterrupt
            yield batch


def blobs(n=256, seed=0):
    """Two Gaussian blobs in 1x4x4 'images', labels by blob."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 1, 4, 4, generator=g) + (y.float() * 2 - 1)[:, None, None, None]
    return x, y


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 2))


def run(epochs=3, **kwargs):
    x, y = blobs()
    xt, yt = blobs(128, seed=1)
    model = kwargs.pop("model", None) or tiny_model()
    train_loader = kwargs.pop("train_loader", None) or Batches(x, y)
    history = fit(model, (train_loader, Batches(xt, yt)), epochs=epochs, device="cpu",
                  progress=False, live_plot=False, **kwargs)
    return model, history


def test_fit_learns_and_reports(capsys):
    model, history = run(epochs=4, lr=0.1)
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3, 4]
    assert history.final["test_acc"] > 0.9
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]
    for record in history.epochs:
        assert set(record) >= {"train_loss", "train_acc", "test_loss", "test_acc", "seconds", "images_per_s"}
        assert record["images_per_s"] > 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"model=sequential dataset=blobs epochs=4 test_acc=\d\.\d{4} seconds=\d+ device=cpu", line)
    assert line == history.summary_line()


def test_same_seed_same_result():
    a, history_a = run(seed=3, optimizer="adamw", label_smoothing=0.1)
    b, history_b = run(seed=3, optimizer="adamw", label_smoothing=0.1)
    assert [e["train_loss"] for e in history_a.epochs] == [e["train_loss"] for e in history_b.epochs]
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("schedule", train.SCHEDULES)
def test_schedules_run(schedule):
    _, history = run(epochs=2, schedule=schedule)
    assert len(history.epochs) == 2


def test_checkpoint_interrupt_and_resume(tmp_path, capsys):
    path = tmp_path / "run.pt"
    x, y = blobs()
    _, reference = run(epochs=4)

    model, history = run(epochs=4, checkpoint=path,
                         train_loader=Batches(x, y, interrupt_in_epoch=3))
    assert history.interrupted and len(history.epochs) == 2
    best = max(history.epochs, key=lambda e: e["test_acc"])
    assert "kept the best weights" in capsys.readouterr().out
    saved = torch.load(path, weights_only=False)
    assert len(saved["history"]) == 2 and not (tmp_path / "run.pt.tmp").exists()
    acc = train.evaluate(model, Batches(*blobs(128, seed=1)), torch.device("cpu"))[1]
    assert acc == pytest.approx(best["test_acc"])

    resumed_model, resumed = run(epochs=4, checkpoint=path, model=tiny_model(seed=99))
    assert [e["epoch"] for e in resumed.epochs] == [1, 2, 3, 4]
    assert [e["train_loss"] for e in resumed.epochs] == pytest.approx(
        [e["train_loss"] for e in reference.epochs], rel=1e-6)

    with pytest.raises(ValueError, match="epochs=4"):
        run(epochs=5, checkpoint=path)


def test_finished_checkpoint_returns_without_training(tmp_path):
    path = tmp_path / "run.pt"
    run(epochs=2, checkpoint=path)
    model, history = run(epochs=2, checkpoint=path, model=tiny_model(seed=5))
    saved = torch.load(path, weights_only=False)
    assert len(history.epochs) == 2
    for name, value in model.state_dict().items():
        assert torch.equal(value, saved["model"][name])


def test_nan_loss_stops_with_advice():
    x, y = blobs()
    x[5] = float("nan")
    with pytest.raises(TrainingDiverged, match="lower learning rate"):
        run(train_loader=Batches(x, y))


@pytest.mark.parametrize("kwargs, message", [
    (dict(optimizer="adam"), "unknown optimizer"),
    (dict(schedule="step"), "unknown schedule"),
    (dict(epochs=0), "at least 1"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run(**kwargs)


def test_quick_mode_caps_epochs(monkeypatch):
    monkeypatch.setenv("CNNBOOK_QUICK", "1")
    _, history = run(epochs=10)
    assert len(history.epochs) == train.QUICK_MAX_EPOCHS


def test_history_save_load_and_plot(tmp_path):
    _, history = run(epochs=2)
    history.save(tmp_path / "h.json")
    again = History.load(tmp_path / "h.json")
    assert again == history
    figure = again.plot()
    assert len(figure.axes) == 2 and len(figure.axes[1].lines) == 2


def test_compiled_training_updates_the_model():
    model = tiny_model()
    before = [p.detach().clone() for p in model.parameters()]
    _, compiled = run(epochs=2, compile=True, model=model, lr=0.1)
    _, eager = run(epochs=2, lr=0.1)
    assert len(compiled.epochs) == 2
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert compiled.final["train_loss"] == pytest.approx(eager.final["train_loss"], rel=1e-3)
