"""The trainer shared by the chapters and the command line: ``fit``.

One loop, small enough to read: SGD with momentum or AdamW, a one-cycle, cosine or
constant learning rate, optional label smoothing, mixed precision and channels_last
on GPU, optional ``torch.compile``, a progress bar and live learning curves, a
returned :class:`History`, atomic per-epoch checkpoints that resume, Ctrl-C that
keeps the best weights, and a clear stop when the loss becomes NaN. Under ``torchrun`` the same loop trains
with DistributedDataParallel (see :mod:`cnnbook.distributed`).
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

import torch
from torch import nn
from tqdm.auto import tqdm

from . import data as datasets
from . import distributed
from .device import autocast, default_device, describe, prefers_channels_last

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("onecycle", "cosine", "constant")
DEFAULT_LR = {"sgd": 0.05, "adamw": 2e-3}
DEFAULT_WEIGHT_DECAY = {"sgd": 5e-4, "adamw": 0.05}
QUICK_MAX_EPOCHS = 2


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class History:
    """What ``fit`` returns: one record per epoch, plus what was trained where."""

    model: str
    dataset: str
    device: str
    epochs: list[dict] = field(default_factory=list)
    interrupted: bool = False

    @property
    def final(self) -> dict:
        if not self.epochs:
            raise ValueError("no epoch has finished yet")
        return self.epochs[-1]

    @property
    def best_test_acc(self) -> float:
        return max(e["test_acc"] for e in self.epochs)

    @property
    def seconds(self) -> float:
        return sum(e["seconds"] for e in self.epochs)

    def summary_line(self) -> str:
        return (f"model={self.model} dataset={self.dataset} epochs={len(self.epochs)} "
                f"test_acc={self.final['test_acc']:.4f} seconds={self.seconds:.0f} device={self.device}")

    def plot(self, axes=None):
        from .plotting import learning_curves
        return learning_curves(self, axes=axes)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> "History":
        return cls(**json.loads(Path(path).read_text()))


def evaluate(model: nn.Module, loader: Iterable, device: torch.device | None = None,
             amp: bool = True) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` over ``loader`` (over all
    processes' shards of it, when several processes train)."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    count = 0
    with torch.no_grad(), autocast(device, amp):
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss_sum += nn.functional.cross_entropy(logits.float(), labels, reduction="sum")
            correct += (logits.argmax(1) == labels).sum()
            count += len(labels)
    model.train(was_training)
    loss_sum, correct, count = distributed.all_sum(
        torch.stack([loss_sum, correct.float(), torch.tensor(float(count), device=device)])).tolist()
    return loss_sum / count, correct / count


def make_optimizer(model: nn.Module, name: str, lr: float, weight_decay: float,
                   momentum: float = 0.9) -> torch.optim.Optimizer:
    """SGD with Nesterov momentum or AdamW."""
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum,
                               nesterov=True, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


def make_schedule(optimizer: torch.optim.Optimizer, name: str, lr: float,
                  total_steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    """A per-step learning-rate schedule: one-cycle, cosine decay or constant."""
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps,
                                                   pct_start=0.25)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "constant":
        return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)
    raise ValueError(f"unknown schedule {name!r}; choose one of {SCHEDULES}")


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class _LiveCurves:
    """Learning curves redrawn in place in a notebook after every epoch."""

    def __init__(self):
        import matplotlib.pyplot as plt
        from IPython.display import display

        from .plotting import learning_curves
        self.draw = learning_curves
        self.figure, self.axes = plt.subplots(1, 2, figsize=(9, 3.2))
        plt.close(self.figure)  # shown only through the display handle
        self.handle = display(self.figure, display_id=True)

    def update(self, history: History) -> None:
        for ax in self.axes:
            ax.clear()
        self.draw(history, axes=self.axes)
        self.handle.update(self.figure)


def _save_atomically(state: dict, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def fit(model: nn.Module, data: str | tuple[Iterable, Iterable], *, epochs: int = 10,
        batch_size: int = 256, optimizer: str = "sgd", lr: float | None = None,
        weight_decay: float | None = None, momentum: float = 0.9, schedule: str = "onecycle",
        label_smoothing: float = 0.0, augment: bool = True, amp: bool = True,
        channels_last: bool | None = None, compile: bool = False,
        checkpoint: str | Path | None = None, seed: int = 0,
        device: torch.device | str | None = None, progress: bool = True,
        live_plot: bool | None = None, name: str | None = None) -> History:
    """Train ``model`` on ``data`` and return its :class:`History`.

    ``data`` is a dataset name (``"fashion-mnist"``, ``"mnist"``, ``"cifar10"``) or a
    ``(train_loader, test_loader)`` pair. ``amp`` and ``channels_last`` take effect on
    CUDA only. With ``checkpoint``, the state after every epoch is written atomically
    and a later call with the same path resumes from it. Under torchrun, each process
    trains on its shard of the data and only rank 0 shows progress, prints and writes
    the checkpoint; every process returns the same History. In quick mode
    (``CNNBOOK_QUICK=1``) at most two epochs run, on the data subsets.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {OPTIMIZERS}")
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of {SCHEDULES}")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if datasets.quick_mode():
        epochs = min(epochs, QUICK_MAX_EPOCHS)
    device = torch.device(device) if device is not None else default_device()
    torch.manual_seed(seed)
    if isinstance(data, str):
        train_loader, test_loader = datasets.loaders(data, batch_size, device=device, augment=augment, seed=seed,
                                                     rank=distributed.rank(), world_size=distributed.world_size())
        dataset_name = data
    else:
        train_loader, test_loader = data
        dataset_name = getattr(train_loader, "dataset_name", "custom")
    spec = getattr(model, "input_spec", None)
    name = name or (spec.model_name if spec else type(model).__name__.lower())
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    weight_decay = DEFAULT_WEIGHT_DECAY[optimizer] if weight_decay is None else weight_decay

    model.to(device)
    if channels_last if channels_last is not None else prefers_channels_last(device):
        model.to(memory_format=torch.channels_last)
    step_model = distributed.wrap(model, device)
    step_model = torch.compile(step_model) if compile else step_model
    opt = make_optimizer(model, optimizer, lr, weight_decay, momentum)
    steps_per_epoch = len(train_loader)
    scheduler = make_schedule(opt, schedule, lr, epochs * steps_per_epoch)
    scaler = torch.amp.GradScaler(device.type, enabled=amp and device.type == "cuda"
                                  and not torch.cuda.is_bf16_supported())
    criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    history = History(name, dataset_name, describe(device))
    best_state, best_acc, start = None, -1.0, 0

    path = Path(checkpoint) if checkpoint else None
    if path and path.exists():
        state = torch.load(path, map_location=device, weights_only=False)
        if state["total_epochs"] != epochs:
            raise ValueError(f"checkpoint {path} was written for epochs={state['total_epochs']}; "
                             f"pass epochs={state['total_epochs']} to resume or delete it to start over")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        history.epochs = state["history"]
        best_state, best_acc, start = state["best_model"], state["best_acc"], len(history.epochs)

    main = distributed.is_main()
    live = _LiveCurves() if main and (live_plot if live_plot is not None else _in_notebook()) else None
    if live and history.epochs:
        live.update(history)
    bar = tqdm(total=epochs * steps_per_epoch, initial=start * steps_per_epoch,
               disable=not (progress and main) or start == epochs, desc=name, unit="batch",
               mininterval=0.5, leave=True)
    check_every = max(1, steps_per_epoch // 10)
    try:
        for epoch in range(start, epochs):
            model.train()
            if hasattr(train_loader, "set_epoch"):
                train_loader.set_epoch(epoch)
            started = time.perf_counter()
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            seen = 0
            for step, (images, labels) in enumerate(train_loader):
                images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
                with autocast(device, amp):
                    logits = step_model(images)
                    loss = criterion(logits.float(), labels)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                scheduler.step()
                loss_sum += loss.detach() * len(labels)
                correct += (logits.argmax(1) == labels).sum()
                seen += len(labels)
                if step % check_every == 0 and not math.isfinite(loss_sum.item()):
                    raise TrainingDiverged(
                        f"the training loss became {loss_sum.item()} in epoch {epoch + 1}, step {step + 1}. "
                        f"Try a lower learning rate (lr={lr:g} now), check that the inputs are "
                        f"normalised, or turn mixed precision off (amp=False)."
                        + (f" The checkpoint {path} still holds the last good epoch." if path else ""))
                bar.update(1)
            train_seconds = time.perf_counter() - started
            loss_sum, correct, seen = distributed.all_sum(   # over all processes' shards
                torch.stack([loss_sum, correct.float(), torch.tensor(float(seen), device=device)])).tolist()
            test_loss, test_acc = evaluate(model, test_loader, device, amp)
            record = dict(epoch=epoch + 1, train_loss=loss_sum / seen,
                          train_acc=correct / seen, test_loss=test_loss, test_acc=test_acc,
                          lr=opt.param_groups[0]["lr"], seconds=time.perf_counter() - started,
                          images_per_s=seen / train_seconds)
            history.epochs.append(record)
            if test_acc > best_acc:
                best_acc, best_state = test_acc, copy.deepcopy(model.state_dict())
            bar.set_postfix(loss=f"{record['train_loss']:.3f}", test_acc=f"{test_acc:.4f}")
            if path and main:
                _save_atomically(dict(model=model.state_dict(), optimizer=opt.state_dict(),
                                      scheduler=scheduler.state_dict(), rng=torch.get_rng_state(),
                                      history=history.epochs, best_model=best_state,
                                      best_acc=best_acc, total_epochs=epochs), path)
            if live:
                live.update(history)
    except KeyboardInterrupt:
        history.interrupted = True
        if best_state is not None:
            model.load_state_dict(best_state)
        kept = (f"kept the best weights (test_acc={best_acc:.4f})" if best_state is not None
                else "no epoch had finished, so the weights are mid-epoch")
        resume = f"; run again with checkpoint={str(path)!r} to resume" if path else ""
        print(f"Interrupted after {len(history.epochs)} of {epochs} epochs: {kept}{resume}.")
        return history
    finally:
        bar.close()
    if not history.epochs:
        raise RuntimeError("no epoch ran")
    if main:
        print(history.summary_line())
    return history
