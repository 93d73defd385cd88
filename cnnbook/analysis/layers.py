"""Layer tables and output-size arithmetic.

``summary(model)`` runs one image through a model and lists, layer by layer,
the output shape, the number of parameters, the multiply-accumulates (MACs) and
the memory of the output. ``conv_output_size`` is the formula every chapter
uses to follow the spatial size of the feature maps through a network.
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Iterator

import torch
from torch import nn

from ..models.inputs import check_input, default_input_size
from .receptive_field import ReceptiveField, UnsupportedLayerError, eval_mode, receptive_field

__all__ = ["LayerRow", "Summary", "summary", "conv_output_size", "conv_output_fits"]


# --------------------------------------------------------------------------- summary

@dataclass(frozen=True)
class LayerRow:
    """One line of a summary: a layer's call, its output and its cost per image."""

    name: str                  # qualified name, as in model.named_modules()
    type: str                  # class name
    output_shape: tuple        # without the batch axis; a tuple of shapes for several outputs
    params: int                # parameters of the module and its children
    macs: int                  # multiply-accumulates per image
    activation_bytes: int      # bytes of the output per image
    receptive_field: tuple[int, ...] | None = None   # input pixels a unit sees, per axis; None if unknown
    sees_whole_image: bool = False                   # after global pooling: every unit sees all of it


@dataclass(repr=False)
class Summary:
    """The table ``summary`` returns: ``rows`` plus the totals of the model."""

    rows: list[LayerRow]
    input_size: tuple[int, ...]
    total_params: int          # every parameter of the model, counted once
    trainable_params: int
    receptive_field_note: str = ""   # why the receptive-field column is empty, when it is

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def total_activation_bytes(self) -> int:
        return sum(r.activation_bytes for r in self.rows)

    def row(self, name: str) -> LayerRow:
        """The (first) row of the layer called ``name``."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no layer named {name!r}; the layers are: {', '.join(r.name for r in self.rows)}")

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as dictionaries, e.g. for ``pandas.DataFrame(s.to_records())``."""
        return [asdict(r) for r in self.rows]

    def _cells(self) -> tuple[list[str], list[list[str]], list[str]]:
        head = ["Layer", "Type", "Output shape", "Params", "MACs", "Memory", "RF"]
        body = [[r.name, r.type, _shape(r.output_shape), f"{r.params:,}", f"{r.macs:,}",
                 _bytes(r.activation_bytes), _field(r)] for r in self.rows]
        total = ["Total", "", "", f"{self.total_params:,}", f"{self.total_macs:,}",
                 _bytes(self.total_activation_bytes), ""]
        return head, body, total

    def _footnote(self) -> str:
        size = "x".join(map(str, self.input_size))
        return (f"Input {size}: {self.total_params:,} parameters ({self.trainable_params:,} trainable), "
                f"{_macs(self.total_macs)} MACs, {_bytes(self.total_activation_bytes)} of activations per image. "
                + (self.receptive_field_note or "RF: the receptive field of a unit of the output, in input pixels."))

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        head, body, total = self._cells()
        widths = [max(len(row[i]) for row in [head, total, *body]) for i in range(len(head))]

        def line(cells: list[str]) -> str:   # text columns left-aligned, numbers right-aligned
            return "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(head), rule, *map(line, body), rule, line(total), self._footnote()])

    def _repr_html_(self) -> str:
        head, body, total = self._cells()

        def tr(cells: list[str], tag: str = "td") -> str:
            return "<tr>" + "".join(
                f'<{tag} style="text-align:{"left" if i < 3 else "right"}">{html.escape(c)}</{tag}>'
                for i, c in enumerate(cells)) + "</tr>"

        return (f"<table><thead>{tr(head, 'th')}</thead><tbody>{''.join(map(tr, body))}</tbody>"
                f"<tfoot>{tr(total, 'th')}</tfoot></table><p>{html.escape(self._footnote())}</p>")


def summary(model: nn.Module, input_size: tuple[int, int, int] | None = None, *,
            depth: int | None = None, device: torch.device | str | None = None,
            dtype: torch.dtype = torch.float32, receptive_fields: bool = True) -> Summary:
    """Run one zero image of size ``input_size`` = (C, H, W) through ``model`` and tabulate its layers.

    By default every leaf module gets a row per call, in execution order. With
    ``depth=k`` the modules deeper than ``k`` levels are folded into their
    ancestor at depth ``k``. MACs are counted for convolutions and linear layers;
    a module with a method ``macs(inputs, output) -> int`` counts its own (and
    its children are not looked at). The model is not moved: ``device`` defaults
    to the device of its parameters. With ``receptive_fields`` (the default) the
    table has the receptive field of each row's output (``analysis.receptive_field``;
    left empty, with the reason in the footnote, for a model fx cannot trace).
    """
    input_size = default_input_size(model) if input_size is None else tuple(input_size)
    check_input(model, input_size, dtype)
    weights = next(model.parameters(), None)
    if weights is not None and weights.is_floating_point() and dtype.is_floating_point and dtype != weights.dtype:
        raise ValueError(f"the model's weights are {weights.dtype} but dtype={dtype}: pass dtype={weights.dtype}, "
                         f"or convert the model with model.to({dtype}).")
    if depth is not None and depth < 0:
        raise ValueError(f"depth must be 0 or more, got {depth}.")
    if device is None:
        device = next((t.device for t in [*model.parameters(), *model.buffers()]), torch.device("cpu"))

    names = dict(_hooked_modules(model))
    rows: list[LayerRow] = []
    total_macs = 0            # running count of the MACs done so far
    starts: list[int] = []    # the running count when each open row began

    def is_row(module: nn.Module, name: str) -> bool:
        level = name.count(".") + 1 if name else 0
        return level == depth or (_is_opaque(module) and (depth is None or level < depth))

    def pre_hook(module: nn.Module, args: tuple) -> None:
        if is_row(module, names[module]):
            starts.append(total_macs)

    def hook(module: nn.Module, args: tuple, output: Any) -> None:
        nonlocal total_macs
        total_macs += _own_macs(module, args, output)
        name = names[module]
        if is_row(module, name):
            tensors = list(_tensors(output))
            shape = tuple(output.shape[1:]) if isinstance(output, torch.Tensor) else \
                tuple(tuple(t.shape[1:]) for t in tensors)
            rows.append(LayerRow(name, type(module).__name__, shape, _count(module.parameters()),
                                 total_macs - starts.pop(),
                                 sum(t.numel() * t.element_size() for t in tensors)))

    handles = []
    try:
        for module in names:
            handles += [module.register_forward_pre_hook(pre_hook), module.register_forward_hook(hook)]
        with eval_mode(model), torch.no_grad():
            model(torch.zeros(1, *input_size, device=device, dtype=dtype))
    finally:
        for h in handles:
            h.remove()
    table = Summary(rows, input_size, _count(model.parameters()),
                    _count(p for p in model.parameters() if p.requires_grad))
    return _with_receptive_fields(table, model) if receptive_fields else table


def _with_receptive_fields(table: Summary, model: nn.Module) -> Summary:
    """``table`` with each row's receptive field: the field of the output of that call of the module."""
    try:
        fields = receptive_field(model, table.input_size)
    except (UnsupportedLayerError, torch.fx.proxy.TraceError) as error:
        return replace(table, receptive_field_note=f"Receptive fields not computed: {error}")
    calls: dict[str, int] = {}
    rows = []
    for row in table.rows:
        call = calls[row.name] = calls.get(row.name, -1) + 1
        rf = _module_field(fields, row.name, call)
        rows.append(row if rf is None else replace(row, receptive_field=rf.size, sees_whole_image=rf.global_))
    return replace(table, rows=rows)


def _module_field(fields: ReceptiveField, name: str, call: int):
    if not name:
        return fields.layers[-1]
    calls = fields.module_outputs.get(name, [])
    return fields.module_output(name, call) if call < len(calls) else None


def _is_opaque(module: nn.Module) -> bool:
    """A leaf, or a module that counts its own MACs: the smallest unit of a summary."""
    return callable(getattr(module, "macs", None)) or next(module.children(), None) is None


def _hooked_modules(model: nn.Module) -> Iterator[tuple[nn.Module, str]]:
    """(module, qualified name) for every module except the insides of opaque ones."""
    seen: set[nn.Module] = set()
    stack = [("", model)]
    while stack:
        name, module = stack.pop()
        if module in seen:
            continue
        seen.add(module)
        yield module, name
        if not callable(getattr(module, "macs", None)):
            stack += reversed([(f"{name}.{n}" if name else n, c) for n, c in module.named_children()])


def _own_macs(module: nn.Module, args: tuple, output: Any) -> int:
    """The module's own MACs for this call (its children's are counted by their own hooks)."""
    if callable(getattr(module, "macs", None)):
        return int(module.macs(args, output))
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):   # batch of 1: numel is per image
        return output.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    return 0


def _tensors(output: Any) -> Iterator[torch.Tensor]:
    if isinstance(output, torch.Tensor):
        yield output
    elif isinstance(output, (tuple, list)):
        for o in output:
            yield from _tensors(o)
    elif isinstance(output, dict):
        for o in output.values():
            yield from _tensors(o)


def _count(params) -> int:
    return sum(p.numel() for p in params)


def _shape(shape: tuple) -> str:
    return str(shape) if not shape or not isinstance(shape[0], tuple) else ", ".join(map(str, shape))


def _field(row: LayerRow) -> str:
    if row.sees_whole_image:
        return "image"
    return "" if row.receptive_field is None else "x".join(map(str, row.receptive_field))


def _macs(n: int) -> str:
    return f"{n / 1e9:.2f} G" if n >= 1e9 else f"{n / 1e6:.2f} M"


def _bytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} KB" if n >= 1e3 else f"{n} B"


# --------------------------------------------------------------------------- output sizes

def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """Output size of a convolution or pooling along one axis: floor((W + 2P - D(F-1) - 1)/S) + 1.

    Without dilation this is the textbook (W - F + 2P)/S + 1, rounded down.
    ``ceil_mode`` rounds up instead, as pooling layers can: the last window may
    then hang over the edge, but (as in PyTorch) it must start inside the input
    or the left padding.
    """
    for what, value in [("input size", size), ("kernel", kernel), ("stride", stride), ("dilation", dilation)]:
        if value < 1:
            raise ValueError(f"The {what} must be a positive integer, got {value}.")
    if padding < 0:
        raise ValueError(f"The padding must be 0 or more, got {padding}; crop the input to make it smaller.")
    span = dilation * (kernel - 1) + 1   # the kernel's extent on the input
    dilated = f" (dilated to {span})" if dilation > 1 else ""
    if padding > span // 2:
        raise ValueError(f"A padding of {padding} is more than half the kernel{dilated}: the outermost "
                         f"windows would see nothing but padding. Use a padding of at most {span // 2}.")
    room = size + 2 * padding - span   # how far the window can slide
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:   # as PyTorch: no window starts in the right padding
        out -= 1
    if out < 1:
        raise ValueError(f"The kernel{dilated} is {span} wide, larger than the padded input of "
                         f"{size} + 2x{padding} = {size + 2 * padding}: it fits nowhere. Use a smaller "
                         f"kernel or dilation, or a larger input.")
    return out


def conv_output_fits(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> bool:
    """Whether the windows tile the padded input exactly, i.e. (W - F + 2P) is divisible by S.

    When it is not, the last rows/columns of the input are not covered by any window.
    """
    conv_output_size(size, kernel, stride, padding, dilation)   # validates the settings
    return (size + 2 * padding - dilation * (kernel - 1) - 1) % stride == 0
