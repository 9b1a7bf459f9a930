"""Every plotly chart of the app, as functions returning figures (unit-tested without a browser)."""

from tlcore.figures.common import (
    class_counts,
    confusion_matrix,
    learning_curves,
    published_scatter,
    split_counts,
    top_k,
)
from tlcore.figures.dataset import mode_counts, size_histograms
from tlcore.figures.evaluation import confusion_cells, overlaid_learning_curves, reliability_diagram
from tlcore.figures.prediction import export_comparison, predicted_class_counts
from tlcore.figures.training import freeze_strip
from tlcore.figures.tuning import freeze_depth_sweep, lr_finder_curve, phase_curves

__all__ = [
    "class_counts",
    "confusion_matrix",
    "learning_curves",
    "published_scatter",
    "split_counts",
    "top_k",
    "mode_counts",
    "size_histograms",
    "confusion_cells",
    "overlaid_learning_curves",
    "reliability_diagram",
    "export_comparison",
    "predicted_class_counts",
    "freeze_strip",
    "freeze_depth_sweep",
    "lr_finder_curve",
    "phase_curves",
]
