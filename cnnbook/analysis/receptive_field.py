"""Exact receptive fields, by the method of Araujo, Norris and Sim (Distill, 2019).

``receptive_field(model)`` traces the model with ``torch.fx`` and follows three
numbers per spatial axis through the graph, layer by layer:

* the size ``r`` of the receptive field (how many input pixels a unit sees),
* the jump ``j`` (how far apart, in input pixels, neighbouring units look),
* the padding ``p`` (how far the field of unit 0 starts before pixel 0).

Unit ``i`` of a layer then sees the input pixels ``i*j - p`` to ``i*j - p + r - 1``
(inclusive; they may lie in the padding, outside the image). A convolution or
pooling with kernel ``k``, stride ``s``, padding ``q`` and dilation ``d`` changes
them as follows, with ``k' = d*(k - 1) + 1`` the kernel's extent::

    r_out = r_in + (k' - 1) * j_in      j_out = j_in * s      p_out = p_in + q * j_in

Pointwise layers (activations, normalisation, 1x1 convolutions...) keep them.
Where paths meet (``add``, ``cat``, ``mul``) the field is the union of the
inputs' fields; when the inputs are not centred on the same pixel, or do not
step by the same jump, the merge is recorded as *misaligned*. After global
pooling (or flattening) a unit sees the whole image.
"""

from __future__ import annotations

import difflib
import html
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp, TensorMetadata

from ..models.inputs import check_input, default_input_size

__all__ = ["RFRow", "ReceptiveField", "UnsupportedLayerError", "receptive_field"]

Ints = tuple[int, ...]   # one number per spatial axis: (h, w) for images


class UnsupportedLayerError(ValueError):
    """A layer whose effect on the receptive field is not known, or a forward ``torch.fx`` cannot
    trace: better no answer than a wrong one."""


@dataclass(frozen=True)
class RFRow:
    """One node of the traced graph and the receptive field of the units of its output."""

    name: str              # the fx node's name (unique)
    target: str            # the module's qualified name, or the function or method called
    type: str              # module class, function or method name
    output_shape: tuple    # without the batch axis; a tuple of shapes for several outputs
    size: Ints             # receptive-field size r per axis, in input pixels
    stride: Ints           # jump j: the distance in input pixels between neighbouring units
    padding: Ints          # p: unit i sees input pixels i*j - p ... i*j - p + r - 1
    global_: bool = False  # True when every output sees the whole image


@dataclass(repr=False)
class ReceptiveField:
    """What ``receptive_field`` returns: a row per layer and the field of the last spatial layer."""

    layers: list[RFRow]
    input_size: tuple[int, ...]
    misaligned: list[tuple[str, str]] = field(default_factory=list)   # (node name, what differs)
    sees_whole_image: bool = False   # the model's output is computed after global pooling
    module_outputs: dict[str,
                         list[str]] = field(default_factory=dict)  # module -> row name of each call's output

    @property
    def last_spatial(self) -> RFRow:
        """The last layer whose output is still a map (N, C, H, W) and not global."""
        for row in reversed(self.layers):
            if not row.global_ and self._is_map(row):
                return row
        raise ValueError("the model has no spatial layer")   # not reached: the input is one

    @property
    def gated_from(self) -> RFRow | None:
        """The first map of more than one unit whose units all see the whole image, because gates
        computed from the whole image (attention) multiply it; None when no such map exists."""
        return next((row for row in self.layers
                     if row.global_ and self._is_map(row) and math.prod(_first_shape(row.output_shape)[1:]) > 1), None)

    def _is_map(self, row: RFRow) -> bool:
        """Whether ``row``'s output has the input's axes: (C, H, W) for images."""
        return len(_first_shape(row.output_shape)) == len(self.input_size)

    @property
    def size(self) -> Ints:
        return self.last_spatial.size

    @property
    def stride(self) -> Ints:
        return self.last_spatial.stride

    @property
    def padding(self) -> Ints:
        return self.last_spatial.padding

    def layer(self, name: str) -> RFRow:
        """The row of the node called ``name``, or else the output of the module called ``name``.

        A module is any submodule, a block as well as a convolution: its row is the
        last node computed inside its first call (see ``module_output``).
        """
        for row in self.layers:
            if row.name == name:
                return row
        if name in self.module_outputs:
            return self.module_output(name)
        raise KeyError(f"no layer named {name!r}; the layers are: {', '.join(r.name for r in self.layers)}")

    def module_output(self, module: str, call: int = 0) -> RFRow:
        """The row of the output of call number ``call`` (from 0) of the submodule called ``module``."""
        calls = self.module_outputs.get(module)
        if not calls:
            close = difflib.get_close_matches(module, self.module_outputs, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"no module {module!r} computes a tensor in this model.{hint}")
        if not 0 <= call < len(calls):
            raise ValueError(f"module {module!r} is called {len(calls)} time(s); call must be from 0 to {len(calls) - 1}")
        return next(row for row in self.layers if row.name == calls[call])

    def rectangle(self, unit: tuple[int, ...], layer: str | None = None) -> tuple[tuple[int, int], ...]:
        """The input pixels ``((top, bottom), (left, right))``, inclusive, seen by unit (row, col) of ``layer``.

        ``layer`` defaults to the last spatial layer. The rectangle may reach into
        the padding: below 0 or beyond the image.
        """
        row = self.last_spatial if layer is None else self.layer(layer)
        image = self.input_size[1:]
        if row.global_:
            return tuple((0, n - 1) for n in image)
        grid = _first_shape(row.output_shape)[-len(image):]
        unit = tuple(unit)
        if len(unit) != len(grid) or not all(0 <= u < n for u, n in zip(unit, grid)):
            raise ValueError(f"unit {unit} is not in layer {row.name!r}, whose output map is "
                             f"{'x'.join(map(str, grid))}: indices run from 0 to {tuple(n - 1 for n in grid)}.")
        return tuple((u * j - p, u * j - p + r - 1)
                     for u, r, j, p in zip(unit, row.size, row.stride, row.padding))

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        head = ["Layer", "Type", "Output shape", "Size", "Stride", "Padding"]
        body = [[r.name, r.type, str(r.output_shape), *(["whole image", "", ""] if r.global_ else
                 ["x".join(map(str, v)) for v in (r.size, r.stride, r.padding)])] for r in self.layers]
        return head, body

    def _footnote(self) -> str:
        last = self.last_spatial
        text = (f"Input {'x'.join(map(str, self.input_size))}: a unit of {last.name} sees "
                f"{'x'.join(map(str, last.size))} pixels, stride {'x'.join(map(str, last.stride))}, "
                f"padding {'x'.join(map(str, last.padding))}.")
        gated = self.gated_from
        if gated is not None:
            text += (f" From {gated.name} on, the maps are multiplied by gates computed from the whole"
                     " image, so their units see all of it; global_context=False follows the feature maps alone.")
        if self.sees_whole_image:
            text += " The output sees the whole image."
        if self.misaligned:
            text += " Misaligned: " + "; ".join(f"{name} ({note})" for name, note in self.misaligned) + "."
        return text

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        head, body = self._cells()
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]

        def line(cells: list[str]) -> str:   # text columns left-aligned, numbers right-aligned
            return "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(head), rule, *map(line, body), rule, self._footnote()])

    def _repr_html_(self) -> str:
        head, body = self._cells()

        def tr(cells: list[str], tag: str = "td") -> str:
            return "<tr>" + "".join(
                f'<{tag} style="text-align:{"left" if i < 3 else "right"}">{html.escape(c)}</{tag}>'
                for i, c in enumerate(cells)) + "</tr>"

        return (f"<table><thead>{tr(head, 'th')}</thead><tbody>{''.join(map(tr, body))}</tbody></table>"
                f"<p>{html.escape(self._footnote())}</p>")


# --------------------------------------------------------------------------- the walk

@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode inside the block; every module's own mode is restored after it."""
    modes = {m: m.training for m in model.modules()}
    try:
        yield model.eval()
    finally:
        for m, training in modes.items():
            m.training = training


@dataclass(frozen=True)
class _Field:
    """r, j, p per axis and the size of the output map, or ``global_``."""

    r: Ints
    j: Ints
    p: Ints
    grid: Ints
    global_: bool = False


def receptive_field(model: nn.Module, input_size: tuple[int, ...] | None = None, *,
                    global_context: bool = True) -> ReceptiveField:
    """Trace ``model`` and compute the exact receptive field of every layer, for inputs of size (C, H, W).

    ``input_size`` defaults to the model's ``input_spec``. A map multiplied by
    gates computed from the whole image (squeeze-and-excitation, ResNeSt's split
    attention) depends on the whole image: with ``global_context=False`` such
    gates are treated as constants and the table follows the feature maps alone.
    Raises
    ``UnsupportedLayerError``, naming the layer, for a layer that moves pixels in
    a way the method cannot express (upsampling, transposed convolutions...).
    """
    input_size = default_input_size(model) if input_size is None else tuple(input_size)
    like = next(model.parameters(), torch.zeros(()))   # same dtype and device as the weights
    check_input(model, input_size, like.dtype)
    image = tuple(input_size[1:])
    with eval_mode(model), torch.no_grad():   # trace the inference graph (no auxiliary heads, no random depth)
        try:
            graph_module = fx.symbolic_trace(model)
        except (fx.proxy.TraceError, TypeError, AttributeError, NotImplementedError, RuntimeError) as error:
            raise UnsupportedLayerError(
                f"torch.fx cannot trace {type(model).__name__} ({type(error).__name__}: {error}): its forward "
                "uses a tensor's values or shape in Python (a loop over range(x.shape[0]), an if on a "
                "tensor...), which the method needs to see as fixed layers.") from error
        ShapeProp(graph_module).propagate(like.new_zeros(1, *input_size))

    modules = dict(graph_module.named_modules())
    fields: dict[fx.Node, _Field] = {}
    rows: list[RFRow] = []
    misaligned: list[tuple[str, str]] = []
    sees_whole_image = False
    module_outputs: dict[str, dict[int, str]] = {}
    for node in graph_module.graph.nodes:
        inputs = [fields[n] for n in node.all_input_nodes if n in fields]
        if node.op == "output":
            sees_whole_image = bool(inputs) and all(f.global_ for f in inputs)
            continue
        if node.op == "placeholder" and not fields:
            out = _Field((1,) * len(image), (1,) * len(image), (0,) * len(image), image)
        elif not inputs or "tensor_meta" not in node.meta:
            continue   # constants, parameters and shape queries such as x.size(0)
        elif all(f.global_ for f in inputs) or (global_context and any(f.global_ for f in inputs)):
            out = _global(image)
        else:
            spatial = [f for f in inputs if not f.global_]
            out = _layer(node, modules, _union(node, spatial, misaligned), image)
        fields[node] = out
        rows.append(_row(node, modules, out))
        for key in node.meta.get("nn_module_stack", {}):   # "name" or "name@k" for its (k+1)-th call
            module, _, call = key.partition("@")
            module_outputs.setdefault(module, {})[int(call or 0)] = node.name   # the last node wins
    return ReceptiveField(rows, input_size, misaligned, sees_whole_image,
                          {m: [calls[k] for k in sorted(calls)] for m, calls in module_outputs.items()})


def _row(node: fx.Node, modules: dict[str, nn.Module], out: _Field) -> RFRow:
    module = modules.get(node.target) if node.op == "call_module" else None
    kind = "input" if node.op == "placeholder" else \
        type(module).__name__ if module is not None else _name(node.target)
    return RFRow(node.name, _name(node.target), kind, _shapes(node.meta["tensor_meta"]),
                 out.r, out.j, out.p, out.global_)


def _global(image: Ints) -> _Field:
    """Sees the whole image: unit 0 covers pixels 0 to size - 1 (the jump is never used)."""
    return _Field(image, image, (0,) * len(image), (1,) * len(image), True)


def _union(node: fx.Node, inputs: list[_Field], misaligned: list[tuple[str, str]]) -> _Field:
    """The field of a unit that reads the same position of several maps: the union of their fields."""
    first = inputs[0]
    if len(inputs) == 1:
        return first
    if any(f.grid != first.grid for f in inputs):
        raise UnsupportedLayerError(f"{node.name} ({_name(node.target)}) combines maps of different sizes "
                                    f"{sorted({f.grid for f in inputs})}: their units do not correspond.")
    notes = []
    if len({f.j for f in inputs}) > 1:
        notes.append(f"jumps differ: {sorted({f.j for f in inputs})}")
    centres = {tuple((r - 1) / 2 - p for r, p in zip(f.r, f.p)) for f in inputs}   # of unit 0
    if len(centres) > 1:
        notes.append(f"centres of unit 0 differ: {sorted(centres)}")
    if notes:
        misaligned.append((node.name, "; ".join(notes)))
    left = [min(-f.p[a] for f in inputs) for a in range(len(first.r))]
    right = [max(f.r[a] - 1 - f.p[a] for f in inputs) for a in range(len(first.r))]
    jump = tuple(max(js) for js in zip(*(f.j for f in inputs)))   # only exact when the jumps agree
    return _Field(tuple(hi - lo + 1 for lo, hi in zip(left, right)), jump,
                  tuple(-lo for lo in left), first.grid)


def _window(f: _Field, grid: Ints, kernel: Ints, stride: Ints, padding: Ints, dilation: Ints) -> _Field:
    """A convolution or pooling: the formulas of the module docstring, axis by axis."""
    r = tuple(r + d * (k - 1) * j for r, j, k, d in zip(f.r, f.j, kernel, dilation))
    p = tuple(p + q * j for p, j, q in zip(f.p, f.j, padding))
    return _Field(r, tuple(j * s for j, s in zip(f.j, stride)), p, grid)


def _shift(f: _Field, grid: Ints, start: Ints, step: Ints) -> _Field:
    """Unit i of the output is unit ``start + i*step`` of the input (cropping; padding when start < 0)."""
    return _Field(f.r, tuple(j * s for j, s in zip(f.j, step)),
                  tuple(p - a * j for p, a, j in zip(f.p, start, f.j)), grid)


_POOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)
_ADAPTIVE = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)
_PADS = (nn.ZeroPad1d, nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d, nn.ReflectionPad1d,
         nn.ReflectionPad2d, nn.ReplicationPad1d, nn.ReplicationPad2d)
# Modules and functions that move or mix pixels even when the map keeps its size.
_MIXES_SPACE = (nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d, nn.ConvTranspose1d,
                nn.ConvTranspose2d, nn.PixelShuffle, nn.PixelUnshuffle, nn.Fold, nn.Unfold,
                nn.MultiheadAttention, nn.Linear, nn.Bilinear, nn.LayerNorm, nn.Softmax2d,
                nn.Conv3d, nn.MaxPool3d, nn.AvgPool3d)
_MIXING_FUNCTIONS = {"interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "roll", "flip",
                     "fliplr", "flipud", "rot90", "grid_sample", "pixel_shuffle", "pixel_unshuffle", "unfold",
                     "fold", "conv_transpose1d", "conv_transpose2d", "linear", "layer_norm", "cumsum"}
# Functions that, when they remove the spatial axes, pool or flatten them: the result sees everything.
_COLLAPSING = {"flatten", "view", "reshape", "mean", "sum", "amax", "amin", "max", "min", "logsumexp",
               "std", "var", "norm", "squeeze", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
               "adaptive_max_pool1d", "adaptive_max_pool2d", "Flatten"}
_ARGS = {"conv": ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
         "max_pool": ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
         "avg_pool": ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                      "divisor_override")}


def _layer(node: fx.Node, modules: dict[str, nn.Module], f: _Field, image: Ints) -> _Field:
    """The field of ``node``'s output, given the (merged) field ``f`` of its input maps."""
    n = len(image)
    out_shape = _first_shape(_shapes(node.meta["tensor_meta"]))
    grid = tuple(out_shape[-n:]) if len(out_shape) >= n else ()
    module = modules.get(node.target) if node.op == "call_module" else None
    kind = type(module).__name__ if module is not None else _name(node.target)

    def unsupported(why: str) -> UnsupportedLayerError:
        return UnsupportedLayerError(f"cannot follow the receptive field through node {node.name!r} "
                                     f"({kind}{f' {node.target!r}' if module is not None else ''}): {why}")

    def per_axis(value: Any, what: str) -> Ints:
        if isinstance(value, fx.Node):
            raise unsupported(f"its {what} is computed at run time, not a constant")
        value = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
        if len(value) != n:
            raise unsupported(f"it works on {len(value)} spatial axes, the input has {n}")
        return value

    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        return _window(f, grid, *_conv_settings(module.kernel_size, module.stride, module.padding,
                                                module.dilation, per_axis))
    if isinstance(module, _POOLS):
        return _window(f, grid, per_axis(module.kernel_size, "kernel"),
                       per_axis(module.stride or module.kernel_size, "stride"),
                       per_axis(module.padding, "padding"),
                       per_axis(getattr(module, "dilation", 1), "dilation"))
    if isinstance(module, _ADAPTIVE) or kind.startswith("adaptive_"):
        return _adaptive(f, grid, image, unsupported)
    if isinstance(module, _PADS):
        return _shift(f, grid, tuple(-a for a in _pad_before(module.padding, n)), (1,) * n)
    if isinstance(module, _MIXES_SPACE) or kind in _MIXING_FUNCTIONS:
        raise unsupported("it moves or mixes pixels in a way the method cannot follow")
    if module is None and (kind in ("conv1d", "conv2d") or kind.startswith(("max_pool", "avg_pool"))):
        args = {**dict(zip(_ARGS["conv" if kind.startswith("conv") else kind[:8]], node.args)), **node.kwargs}
        if kind.startswith("conv"):
            kernel = tuple(args["weight"].meta["tensor_meta"].shape[2:])
            return _window(f, grid, *_conv_settings(kernel, args.get("stride", 1), args.get("padding", 0),
                                                    args.get("dilation", 1), per_axis))
        kernel = per_axis(args["kernel_size"], "kernel")
        return _window(f, grid, kernel, per_axis(args.get("stride") or kernel, "stride"),
                       per_axis(args.get("padding", 0), "padding"),
                       per_axis(args.get("dilation", 1), "dilation"))
    if kind == "pad":
        pad = node.args[1] if len(node.args) > 1 else node.kwargs["pad"]
        return _shift(f, grid, tuple(-a for a in _pad_before(pad, n)), (1,) * n)
    if kind == "getitem" and isinstance(node.args[0].meta.get("tensor_meta"), TensorMetadata):
        return _shift(f, grid, *_slices(node.args[1], len(node.args[0].meta["tensor_meta"].shape), f.grid,
                                         unsupported))
    if kind in ("transpose", "permute", "softmax", "log_softmax"):
        _check_axes(node, len(out_shape), n, unsupported)
    if len(out_shape) > n and grid == f.grid:
        return _Field(f.r, f.j, f.p,
                      grid)    # pointwise: activations, normalisation, 1x1 convolutions, add...
    if kind in _COLLAPSING:
        return _global(image)
    raise unsupported(f"it turns a {f.grid} map into shape {tuple(out_shape)}")


def _conv_settings(kernel: Any, stride: Any, padding: Any, dilation: Any, per_axis) -> tuple[Ints, ...]:
    kernel, stride = per_axis(kernel, "kernel"), per_axis(stride, "stride")
    dilation = per_axis(dilation, "dilation")
    if padding == "valid":
        padding = 0
    elif padding == "same":   # PyTorch puts the odd pixel of padding on the right
        padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    return kernel, stride, per_axis(padding, "padding"), dilation


def _adaptive(f: _Field, grid: Ints, image: Ints, unsupported) -> _Field:
    """Adaptive pooling: global when it pools to 1x1; else, per axis, a plain pooling when the sizes
    divide, and a copy of the single input unit (jump 0) when it stretches a map of size 1."""
    if all(g == 1 for g in grid):
        return _global(image)
    kernel, stride = [], []
    for a, b in zip(f.grid, grid):
        if a % b and a != 1:
            raise unsupported(f"pooling {f.grid} to {grid} uses windows of varying size; choose an input_size "
                              "for which the map's size is a multiple of the output's")
        kernel.append(a // b if a % b == 0 else 1)
        stride.append(a // b if a % b == 0 else 0)
    return _window(f, grid, tuple(kernel), tuple(stride), (0,) * len(grid), (1,) * len(grid))


def _pad_before(pad: Any, n: int) -> Ints:
    """The padding before each spatial axis, from (left, right, top, bottom, ...) as F.pad takes it."""
    pad = tuple(pad) if isinstance(pad, (tuple, list)) else (pad,) * 2 * n
    pad = pad + (0,) * (2 * n - len(pad))
    return tuple(pad[2 * (n - 1 - a)] for a in range(n))


def _slices(index: Any, ndim: int, grid: Ints, unsupported) -> tuple[Ints, Ints]:
    """Start and step per spatial axis of ``x[index]`` (the last ``len(grid)`` axes of an ``ndim``-D tensor)."""
    index = list(index) if isinstance(index, tuple) else [index]
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index[at:at + 1] = [slice(None)] * (ndim - len(index) + 1)
    index += [slice(None)] * (ndim - len(index))
    starts, steps = [], []
    for item, size in zip(index[-len(grid):], grid):
        if not isinstance(item, slice) or any(isinstance(v, fx.Node) for v in (item.start, item.step)):
            raise unsupported(f"indexing a spatial axis with {item!r}")
        start, _, step = item.indices(size)
        starts.append(start)
        steps.append(step)
    return tuple(starts), tuple(steps)


def _check_axes(node: fx.Node, ndim: int, n: int, unsupported) -> None:
    """Transposes and softmaxes are pointwise only when they leave the spatial axes alone."""
    args = [a for a in node.args[1:]] + list(node.kwargs.values())
    dims = [a for a in args if isinstance(a, int)]
    dims += [d for a in args if isinstance(a, (tuple, list)) for d in a]
    if _name(node.target) == "permute":
        if [d % ndim for d in dims[-n:]] != list(range(ndim - n, ndim)):
            raise unsupported("it moves the spatial axes")
    elif any(d % ndim >= ndim - n for d in dims):
        raise unsupported("it acts along a spatial axis")


def _name(target: Any) -> str:
    return target if isinstance(target, str) else getattr(target, "__name__", str(target))


def _shapes(meta: Any) -> tuple:
    if isinstance(meta, TensorMetadata):
        return tuple(meta.shape[1:])
    return tuple(_shapes(m) for m in meta if isinstance(m, (TensorMetadata, tuple, list)))


def _first_shape(shape: tuple) -> tuple:
    while shape and isinstance(shape[0], tuple):
        shape = shape[0]
    return shape
