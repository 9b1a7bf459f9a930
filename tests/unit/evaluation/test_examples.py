"""tlcore.evaluation.examples: training images of a class, the same ones each time, for the Demo page."""


def test_examples_are_training_images_of_the_class(calibrated_run):
    from tlcore.evaluation.examples import class_examples

    split = calibrated_run.split()
    train_of_2 = {relative for relative, label in split.train if label == 2}

    examples = class_examples(calibrated_run, "2", count=4, width=64)

    assert len(examples) == 4 and {name for name, _ in examples} <= train_of_2
    assert all(image.width == 64 for _, image in examples)
    assert [name for name, _ in class_examples(calibrated_run, "2", count=4)] == [name for name, _ in examples]
    assert class_examples(calibrated_run, "cat") == []
