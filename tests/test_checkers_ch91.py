"""The appendix's checkers accept the right answers and reject wrong ones."""

import math

from cnnbook.exercises import check


def padded_shard(n, rank, world_size):
    per_process = math.ceil(n / world_size)
    return [i % n for i in range(rank, per_process * world_size, world_size)]


def test_shard():
    assert check("ch91.shard", padded_shard)
    assert not check("ch91.shard", lambda n, rank, world_size: list(range(rank, n, world_size)))   # unpadded
    assert not check("ch91.shard", lambda n, rank, world_size: list(range(n)))


def test_steps():
    assert check("ch91.steps", math.ceil(math.ceil(1_281_167 / 8) / 64))
    assert not check("ch91.steps", 1_281_167 // (8 * 64))
    assert not check("ch91.steps", "2503")


def test_scaled_lr():
    assert check("ch91.scaled-lr", lambda processes, batch: 0.1 * processes * batch / 256)
    assert not check("ch91.scaled-lr", lambda processes, batch: 0.1 * batch / 256)          # per process
    assert not check("ch91.scaled-lr", lambda processes, batch: 0.1 * math.sqrt(processes * batch / 256))
