"""Labeling with few examples: the instant model (class prototypes on a pretrained base, no training job), examples
added from the browser, the `_unlabeled/` queue and its order, and the active-learning curve."""

from tlcore.labeling.examples import (AddedExample, ExampleRefused, add_examples, added_examples, can_add_examples,
                                      check_class_name, class_folders)
from tlcore.labeling.instant import (INSTANT_FILE, InstantConfig, build_instant_run, cross_validated_accuracy,
                                     instant_curve, instant_summary, is_instant, latest_instant_config)
from tlcore.labeling.queue import (ORDERS, UNLABELED, Labeled, LabelingRefused, assign, labeling_log, queue_order,
                                   undo_last, unlabeled_files)

__all__ = [
    "AddedExample", "ExampleRefused", "add_examples", "added_examples", "can_add_examples", "check_class_name",
    "class_folders",
    "INSTANT_FILE", "InstantConfig", "build_instant_run", "cross_validated_accuracy", "instant_summary", "is_instant",
    "instant_curve", "latest_instant_config",
    "ORDERS", "UNLABELED", "Labeled", "LabelingRefused", "assign", "labeling_log", "queue_order", "undo_last", "unlabeled_files",
]
