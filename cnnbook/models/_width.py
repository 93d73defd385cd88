"""The width multiplier of the classic families: every layer's channel count times ``width``."""

from __future__ import annotations


def scaled(channels: int, width: float) -> int:
    """``channels * width``, which must be a whole number so that concatenated
    branches still add up to the width of the layer that reads them."""
    result = channels * width
    if result < 1 or result != int(result):
        raise ValueError(f"width={width} turns a {channels}-channel layer into {result:g} channels; "
                         "choose a width such as 0.5 or 0.25 that gives whole numbers.")
    return int(result)
