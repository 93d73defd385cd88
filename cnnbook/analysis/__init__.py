"""Analysis tools: layer tables (``summary``), output-size arithmetic, receptive fields
(analytic and effective), activations and Grad-CAM."""

from .activations import GradCAM, capture_activations, find_layer, grad_cam, spatial_layers
from .effective_rf import EffectiveReceptiveField, effective_receptive_field
from .layers import LayerRow, Summary, conv_output_fits, conv_output_size, summary
from .receptive_field import ReceptiveField, RFRow, UnsupportedLayerError, receptive_field

__all__ = ["LayerRow", "Summary", "summary", "conv_output_size", "conv_output_fits",
           "ReceptiveField", "RFRow", "UnsupportedLayerError", "receptive_field",
           "EffectiveReceptiveField", "effective_receptive_field",
           "capture_activations", "find_layer", "spatial_layers", "GradCAM", "grad_cam"]
