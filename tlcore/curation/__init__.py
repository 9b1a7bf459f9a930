"""The data-centric loop: the dataset in feature space (embeddings, 2-D map), label issues (cleanlab),
near-duplicates and outliers, the cleaner (moves only, undoable, logged) and retrain-and-compare."""

from tlcore.curation.analysis import TASK_KIND, analyse, analyse_embeddings, latest_map_task
from tlcore.curation.cleaner import (
    QUARANTINE,
    Action,
    CleaningRefused,
    current_paths,
    describe,
    exclude,
    history,
    is_read_only,
    keep,
    kept,
    moved_files,
    open_issues,
    planned_moves,
    relabel,
    undo,
    undoable,
)
from tlcore.curation.duplicates import (
    RULE,
    DuplicatePair,
    NearDuplicates,
    Neighbours,
    duplicate_pairs,
    find_near_duplicates,
    near_duplicates,
    nearest_neighbours,
    outlier_scores,
)
from tlcore.curation.embeddings import EmbedConfig, Embeddings, compute_embeddings
from tlcore.curation.label_issues import (
    LabelIssue,
    LabelIssueReport,
    label_issue_report,
    out_of_sample_probabilities,
    rank_label_issues,
)
from tlcore.curation.projection import METHODS, project
from tlcore.curation.retrain import (
    before_after,
    changed_files,
    queue_retrain,
    retrainable_runs,
    retrained_from,
    retrains_of,
)

__all__ = [
    "TASK_KIND", "analyse", "analyse_embeddings", "latest_map_task",
    "QUARANTINE", "Action", "CleaningRefused", "current_paths", "describe", "exclude", "history", "is_read_only", "keep", "kept", "moved_files", "open_issues", "planned_moves", "relabel", "undo",
    "undoable",
    "RULE", "DuplicatePair", "NearDuplicates", "Neighbours", "duplicate_pairs", "find_near_duplicates", "near_duplicates", "nearest_neighbours", "outlier_scores",
    "EmbedConfig", "Embeddings", "compute_embeddings",
    "LabelIssue", "LabelIssueReport", "label_issue_report", "out_of_sample_probabilities", "rank_label_issues",
    "METHODS", "project",
    "before_after", "changed_files", "queue_retrain", "retrainable_runs", "retrained_from", "retrains_of",
]
