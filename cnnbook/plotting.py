"""Figures the chapters share: learning curves and image grids."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import torch


def learning_curves(*histories, axes=None, labels: Sequence[str] | None = None):
    """Loss and accuracy per epoch (train dashed, test solid) of one or more histories."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    loss_ax, acc_ax = axes
    for i, history in enumerate(histories):
        label = labels[i] if labels else history.model
        color = f"C{i}"
        epochs = [e["epoch"] for e in history.epochs]
        for ax, key in ((loss_ax, "loss"), (acc_ax, "acc")):
            ax.plot(epochs, [e[f"train_{key}"] for e in history.epochs], "--", color=color,
                    label=f"{label} train")
            ax.plot(epochs, [e[f"test_{key}"] for e in history.epochs], "-", color=color,
                    label=f"{label} test")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy")
    acc_ax.legend(fontsize="small")
    loss_ax.figure.tight_layout()
    return loss_ax.figure


def show_images(images: torch.Tensor, labels: Sequence[str] | None = None, ncols: int = 8,
                scale: float = 1.2, cmap: str = "gray"):
    """A grid of ``(N, C, H, W)`` images (uint8 or float in [0, 1]) with optional titles."""
    images = images.detach().cpu()
    if images.dtype == torch.uint8:
        images = images.float() / 255
    n = len(images)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * scale, nrows * scale * 1.15), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, range(n)):
        image = images[i].permute(1, 2, 0).clamp(0, 1).numpy()
        ax.imshow(image.squeeze(-1) if image.shape[-1] == 1 else image, cmap=cmap)
        if labels is not None:
            ax.set_title(labels[i], fontsize="small")
    fig.tight_layout()
    return fig
