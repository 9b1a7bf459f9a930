"""tlcore.figures.prediction: the numbers the charts show are the numbers they were given."""

from tlcore.figures.prediction import export_comparison, predicted_class_counts


def test_class_counts_largest_first_with_unreadable_and_unused_classes():
    rows = [{"predicted": "dog"}, {"predicted": "cat"}, {"predicted": "dog"}, {"predicted": None}]

    bar = predicted_class_counts(rows, ["cat", "dog", "bird"]).data[0]

    assert list(bar.x) == ["dog", "(unreadable)", "cat", "bird"]
    assert list(bar.y) == [2, 1, 1, 0]


def test_export_comparison_skips_failed_formats():
    formats = {"keras": {"format": "keras", "size_bytes": 2_000_000, "latency_ms": 3.0},
               "tflite-int8": {"format": "tflite-int8", "size_bytes": 500_000, "latency_ms": 1.5},
               "tflite-f16": {"format": "tflite-f16", "error": "no interpreter"}}

    size, latency = export_comparison(formats).data

    assert list(size.x) == ["keras", "tflite-int8"] and list(size.y) == [2.0, 0.5]
    assert list(latency.y) == [3.0, 1.5]
