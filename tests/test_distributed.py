"""Training on several processes: the loaders' shards, the image-folder dataset, and
``python -m cnnbook train`` under ``torchrun`` with two CPU processes (gloo)."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from cnnbook import data

SUMMARY = re.compile(r"^model=lenet dataset=\S+ epochs=2 test_acc=[01]\.\d{4} seconds=\d+ device=cpu$", re.M)

# Runs the command line's main() in a torchrun process, recording which training images
# (numbered by their first pixel) this rank was fed in each epoch and the weights it ended with.
RECORDER = '''
import json, os, sys
import torch
from cnnbook import __main__ as cli, data, train

def recording_fit(model, pair, **kwargs):
    loader, epochs = pair[0], []

    class Recorded(type(loader)):
        def __iter__(self):
            epochs.append([])
            for images, labels in super().__iter__():
                pixels = data.denormalize(images, "fashion-mnist")[:, 0, 0, 0] * 255
                epochs[-1] += pixels.round().int().tolist()
                yield images, labels

    loader.__class__ = Recorded
    history = train.fit(model, pair, **kwargs)
    weights = torch.cat([p.detach().flatten() for p in model.state_dict().values()])
    record = dict(rank=int(os.environ["RANK"]), epochs=epochs, weights=weights.tolist(), history=history.epochs)
    with open(os.path.join(os.environ["RECORDS"], f"rank{record['rank']}.json"), "w") as file:
        json.dump(record, file)
    return history

cli.fit = recording_fit
sys.exit(cli.main(sys.argv[1:]))
'''


def idx(array: torch.Tensor) -> bytes:
    """The IDX encoding of a uint8 tensor (the format of the MNIST files)."""
    return struct.pack(">HBB", 0, 8, array.dim()) + struct.pack(f">{array.dim()}I",
                                                                *array.shape) + array.numpy().tobytes()


def numbered_fashion_mnist(folder: Path, train: int, test: int) -> None:
    """Tiny Fashion-MNIST files whose image i has i as its first pixel."""
    generator = torch.Generator().manual_seed(0)
    for prefix, n in (("train", train), ("t10k", test)):
        images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=generator)
        images[:, 0, 0] = torch.arange(n, dtype=torch.uint8)
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(idx(images))
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(idx(torch.arange(n, dtype=torch.uint8) % 10))


def image_folder(root: Path, per_class: dict[str, int], size: int = 32) -> None:
    """root/<split>/<class>/<n>.png: dark images for class "dark", light ones for "light"."""
    generator = torch.Generator().manual_seed(1)
    for split, count in per_class.items():
        for name, base in (("dark", 40), ("light", 200)):
            (root / split / name).mkdir(parents=True)
            for i in range(count):
                pixels = (base + torch.randint(-30, 30, (size, size, 3), generator=generator)).clamp(0, 255)
                Image.fromarray(pixels.to(torch.uint8).numpy()).save(root / split / name / f"{i}.png")


def torchrun(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone", *args]
    environment = dict(os.environ, CNNBOOK_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1", **env)
    environment.pop("CNNBOOK_QUICK", None)
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            env=environment, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_device_loader_shards_are_disjoint_and_even():
    images, labels = torch.arange(11, dtype=torch.uint8).reshape(11, 1, 1, 1), torch.arange(11)

    def shards(**kwargs):
        loaders = [data.DeviceLoader(images, labels, 2, device="cpu", mean=0, std=1 / 255, rank=rank,
                                     world_size=3, **kwargs) for rank in range(3)]
        return [[round(float(x)) for batch, _ in loader for x in batch.flatten()] for loader in loaders]

    training = shards(shuffle=True, seed=5)
    assert [len(s) for s in training] == [4, 4, 4]                    # 11 padded to 12: equal steps
    assert set(sum(training, [])) == set(range(11))
    first_epoch = torch.randperm(11, generator=torch.Generator().manual_seed(5 * 1_000_003)).tolist()
    assert training == [[first_epoch[i % 11] for i in range(r, 12, 3)] for r in range(3)]
    testing = shards()
    assert testing == [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8]]      # exact: each image counted once
    with pytest.raises(ValueError, match="rank"):
        data.DeviceLoader(images, labels, 2, device="cpu", mean=0, std=1, rank=3, world_size=3)


def test_folder_loaders_read_the_imagefolder_layout(tmp_path):
    image_folder(tmp_path, {"train": 5, "val": 3})
    shards = [data.folder_loaders(tmp_path, 4, size=16, workers=0, rank=rank,
                                  world_size=2) for rank in range(2)]
    train, val = shards[0]
    assert train.dataset.classes == ["dark", "light"] and len(train.dataset) == 10
    images, labels = next(iter(train))
    assert images.shape == (4, 3, 16, 16) and images.dtype == torch.float32
    assert set(shards[0][0].sampler).isdisjoint(shards[1][0].sampler)
    assert sorted([*shards[0][1].sampler, *shards[1][1].sampler]) == list(range(6))
    first_epoch = list(train.sampler)
    train.set_epoch(1)
    assert list(train.sampler) != first_epoch                            # reshuffled


def test_folder_loaders_say_what_is_missing(tmp_path):
    with pytest.raises(data.DatasetNotFoundError, match="no train or val folder"):
        data.folder_loaders(tmp_path, 4)


def test_torchrun_trains_on_disjoint_shards_with_identical_weights(tmp_path):
    numbered_fashion_mnist(tmp_path, train=40, test=20)
    (tmp_path / "recorder.py").write_text(RECORDER)
    (tmp_path / "records").mkdir()
    result = torchrun(["recorder.py", "train", "--model", "lenet", "--data-root", str(tmp_path), "--epochs",
                       "2", "--batch-size", "4", "--no-augment", "--optimizer", "adamw", "--lr", "1e-3",
                       "--device", "cpu", "--checkpoint", "lenet.pt", "--save-history", "history.json"],
                      tmp_path, RECORDS=str(tmp_path / "records"))
    ranks = [json.loads((tmp_path / "records" / f"rank{r}.json").read_text()) for r in range(2)]
    for epoch in range(2):
        fed = [set(rank["epochs"][epoch]) for rank in ranks]
        assert len(fed[0]) == len(fed[1]) == 20 and fed[0].isdisjoint(fed[1])
        assert fed[0] | fed[1] == set(range(40))
    assert ranks[0]["epochs"][0] != ranks[0]["epochs"][1]               # reshuffled each epoch
    first = torch.tensor(ranks[0]["weights"])
    assert torch.equal(first, torch.tensor(ranks[1]["weights"]))
    untimed = [[{k: v for k, v in e.items() if k not in ("seconds", "images_per_s")} for e in r["history"]]
               for r in ranks]
    assert untimed[0] == untimed[1] and len(untimed[0]) == 2
    assert len(SUMMARY.findall(result.stdout)) == 1                      # only rank 0 prints
    assert (tmp_path / "lenet.pt").exists() and json.loads((tmp_path / "history.json").read_text())
    saved = torch.load(tmp_path / "lenet.pt", weights_only=False)["model"]
    assert torch.equal(torch.cat([p.flatten() for p in saved.values()]), first)


def test_torchrun_trains_on_an_image_folder(tmp_path):
    image_folder(tmp_path / "images", {"train": 16, "val": 4})
    result = torchrun(["-m", "cnnbook", "train", "--model", "lenet", "--dataset", "folder", "--data-root",
                       str(tmp_path / "images"), "--image-size", "28", "--workers", "0", "--epochs", "2",
                       "--batch-size", "4", "--optimizer", "adamw", "--device", "cpu"], tmp_path)
    lines = SUMMARY.findall(result.stdout)
    assert len(lines) == 1 and "dataset=folder" in lines[0]
