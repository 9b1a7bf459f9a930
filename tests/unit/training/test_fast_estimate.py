"""The fast frozen phase's expected speed-up (shown on the Train page): base passes of plain fit / of the fast path."""

import pytest

from tlcore.training import fast_estimate


def test_the_base_pass_ratio_counts_k_training_passes_and_one_validation_pass_against_one_of_each_per_epoch():
    # 10 epochs over 1,000 train + 250 val images = 12,500 passes; 2 views: 2,000 + 250 = 2,250
    assert fast_estimate.base_pass_ratio(10, 2, 0.25) == pytest.approx(12_500 / 2_250)
    assert fast_estimate.base_pass_ratio(10, 10, 0.25) == pytest.approx(12_500 / 10_250)  # about 1: no gain
    assert fast_estimate.base_pass_ratio(10, 0, 0.25) == fast_estimate.base_pass_ratio(10, 1, 0.25)  # no augment


def test_the_expected_speedup_falls_with_the_views_and_grows_with_the_epochs():
    speedups = [fast_estimate.expected_speedup(10, k, 0.2) for k in (1, 2, 3, 5, 10)]
    assert speedups == sorted(speedups, reverse=True) and speedups[0] > 5 > speedups[-1]
    assert fast_estimate.expected_speedup(30, 3, 0.2) == pytest.approx(3 * fast_estimate.expected_speedup(10, 3, 0.2))


def test_suggested_views_are_the_most_that_keep_the_target_and_at_least_one():
    views = fast_estimate.suggested_views(10, 0.2)
    assert fast_estimate.expected_speedup(10, views, 0.2) >= fast_estimate.TARGET_SPEEDUP
    assert fast_estimate.expected_speedup(10, views + 1, 0.2) < fast_estimate.TARGET_SPEEDUP
    assert fast_estimate.suggested_views(1, 0.2) == 1  # one epoch: no K reaches the target, the cheapest is 1
    assert fast_estimate.suggested_views(100, 0.2) == 10  # never more than 10


def test_val_per_train_is_the_split_s_validation_share_of_the_training_images():
    from tlcore.config.split import SplitConfig

    assert fast_estimate.val_per_train(SplitConfig(val_fraction=0.15, test_fraction=0.15)) == pytest.approx(0.15 / 0.7)
    assert fast_estimate.val_per_train(SplitConfig(val_fraction=0.2, test_fraction=0.0)) == pytest.approx(0.25)


def test_augmenting_every_epoch_is_the_default_and_a_chosen_number_is_kept():
    from tlcore.config.training import TrainConfig
    from tlcore.training.feature_cache import applies, views_of

    default = TrainConfig(dataset="d", augment=True, epochs=10, fine_tune_at=None)
    assert default.augmented_views == 0 and views_of(default) == 0 and not applies(default)  # exact, the default
    assert views_of(TrainConfig(dataset="d", augment=True, epochs=12, augmented_views=7)) == 7
    assert views_of(TrainConfig(dataset="d", augment=False, epochs=12, augmented_views=7)) == 0
    legacy = TrainConfig(dataset="d", augment=True, epochs=12, augmented_views=None)  # saved before the default
    assert views_of(legacy) == 2 and views_of(TrainConfig(dataset="d", augment=True, epochs=10,
                                                          augmented_views=None)) == 1  # the automatic K of then
    assert TrainConfig.from_dict(legacy.to_dict()) == legacy  # None survives the JSON round trip


def test_the_measured_cost_of_views_is_a_loss_that_more_views_make_smaller():
    views, points = zip(*fast_estimate.MEASURED_POINTS)
    assert list(views) == sorted(views) and all(p < 0 for p in points) and points[-1] > points[0]
