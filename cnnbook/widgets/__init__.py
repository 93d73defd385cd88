"""Interactive explorers: thin ipywidgets front ends over ``cnnbook.analysis``.

* ``conv_output_explorer``: the output size of a convolution (chapter 1);
* ``receptive_field_explorer``: a unit's analytic and effective receptive field;
* ``activation_explorer``: feature maps, strongest channels and the patches that excite them;
* ``filter_viewer``: the filters of a convolution; ``grad_cam_view``: where the evidence for a class lies.

Every explorer is a widget computed from its controls by methods that tests call
without a browser, and its output carries a PNG of its current picture for pages
that show no widgets.
"""

from ._base import Explorer, check_ranges
from .activations import ActivationExplorer, FilterViewer, GradCAMView, activation_explorer, filter_viewer, grad_cam_view
from .conv_output import (CONV_GALLERY, CONV_RANGES, ConvOutputExplorer, ConvReport, TapDiagram, conv_output_explorer,
                          conv_output_figure, conv_report)
from .receptive_field import ReceptiveFieldExplorer, receptive_field_explorer

__all__ = ["Explorer", "check_ranges", "ConvReport", "conv_report", "TapDiagram", "ConvOutputExplorer",
           "conv_output_explorer", "conv_output_figure", "CONV_RANGES", "CONV_GALLERY",
           "ReceptiveFieldExplorer", "receptive_field_explorer", "ActivationExplorer", "activation_explorer",
           "FilterViewer", "filter_viewer", "GradCAMView", "grad_cam_view"]
