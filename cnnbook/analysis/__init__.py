"""Analysis tools: layer tables (``summary``) and output-size arithmetic."""

from .layers import LayerRow, Summary, conv_output_fits, conv_output_size, summary

__all__ = ["LayerRow", "Summary", "summary", "conv_output_size", "conv_output_fits"]
