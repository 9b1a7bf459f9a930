"""Every plotly chart of the app, as functions returning figures (unit-tested without a browser)."""

from tlcore.figures.backbones import published_scatter
from tlcore.figures.dataset import class_counts, mode_counts, size_histograms, split_counts
from tlcore.figures.demo import answer_bars
from tlcore.figures.embedding import COLOUR_BY as EMBEDDING_COLOURS
from tlcore.figures.embedding import embedding_map, selected_rows
from tlcore.figures.freeze_depth import freeze_depth_curves
from tlcore.figures.evaluation import confusion_cells, coverage_curve, overlaid_learning_curves, reliability_diagram
from tlcore.figures.labeling import labeling_curve
from tlcore.figures.prediction import export_comparison, predicted_class_counts, top_k
from tlcore.figures.training import freeze_depth_sweep, freeze_strip, learning_curves, lr_finder_curve, phase_curves

__all__ = [
    "published_scatter",
    "answer_bars",
    "EMBEDDING_COLOURS",
    "embedding_map",
    "selected_rows",
    "class_counts",
    "mode_counts",
    "size_histograms",
    "split_counts",
    "confusion_cells",
    "coverage_curve",
    "overlaid_learning_curves",
    "reliability_diagram",
    "labeling_curve",
    "export_comparison",
    "predicted_class_counts",
    "top_k",
    "freeze_depth_sweep",
    "freeze_depth_curves",
    "freeze_strip",
    "learning_curves",
    "lr_finder_curve",
    "phase_curves",
]
