"""Analysis tools: layer tables (``summary``), output-size arithmetic and receptive fields."""

from .layers import LayerRow, Summary, conv_output_fits, conv_output_size, summary
from .receptive_field import ReceptiveField, RFRow, UnsupportedLayerError, receptive_field

__all__ = ["LayerRow", "Summary", "summary", "conv_output_size", "conv_output_fits",
           "ReceptiveField", "RFRow", "UnsupportedLayerError", "receptive_field"]
