"""The per-epoch backup saves only what training changes, and restoring it gives back the very state it saved.

A model rebuilt as a resumed job rebuilds it (same seed, same freeze) and restored from the backup equals the trained
one in every variable: weights, BatchNorm statistics of the layers that train, random generators' states and the
optimizer's slots and step. The frozen layer's weights are not in the file.
"""

import numpy as np
import pytest


def _model(seed: int = 3, freeze_first: bool = True):
    """A small model as TL Studio builds one: augmentation, a frozen conv layer, a trainable conv + BatchNorm
    (from random weights its statistics move), dropout, a softmax head; Adam."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.RandomFlip("horizontal")(inputs)
    x = keras.layers.RandomRotation(0.2)(x)
    frozen = keras.layers.Conv2D(4, 3, name="frozen_conv")
    x = frozen(x)
    x = keras.layers.Conv2D(4, 3, name="trained_conv")(x)
    x = keras.layers.BatchNormalization(name="trained_bn")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.3)(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    frozen.trainable = not freeze_first
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _values(variables) -> list[np.ndarray]:
    import keras

    return [np.array(keras.ops.convert_to_numpy(variable)) for variable in variables]


def test_a_restored_backup_is_the_trained_state_and_leaves_the_frozen_weights_out(tmp_path):
    from tlcore.training.callbacks import BACKUP_STATE_FILE, ChangingStateBackup

    images = np.random.default_rng(0).uniform(0, 255, (48, 8, 8, 3)).astype("float32")
    labels = np.arange(48) % 3
    trained = _model()
    trained.fit(images, labels, epochs=2, batch_size=8, verbose=0, callbacks=[ChangingStateBackup(str(tmp_path))])

    with np.load(tmp_path / BACKUP_STATE_FILE) as saved:
        saved_shapes = sorted(tuple(saved[name].shape) for name in saved.files)
    assert (3, 3, 3, 4) not in saved_shapes  # the frozen conv's kernel
    assert saved_shapes.count((3, 3, 4, 4)) == 3  # the trained conv's kernel and Adam's two slots for it
    assert (2,) in saved_shapes or (3,) in saved_shapes  # the random generators' states are kept

    resumed = _model()
    resumed.fit(images, labels, epochs=2, batch_size=8, verbose=0, callbacks=[ChangingStateBackup(str(tmp_path))])
    assert int(resumed.optimizer.iterations.numpy()) == int(trained.optimizer.iterations.numpy()) == 12
    for name, got, expected in zip([variable.path for variable in trained.variables], _values(resumed.variables),
                                   _values(trained.variables)):
        np.testing.assert_array_equal(got, expected, err_msg=name)
    for got, expected in zip(_values(resumed.optimizer.variables), _values(trained.optimizer.variables)):
        np.testing.assert_array_equal(got, expected)

    # The epoch it goes on from: a third epoch trains once, from the restored state.
    resumed.fit(images, labels, epochs=3, batch_size=8, verbose=0, callbacks=[ChangingStateBackup(str(tmp_path))])
    assert int(resumed.optimizer.iterations.numpy()) == 18


def test_a_backup_of_another_freeze_depth_is_refused_in_one_line(tmp_path):
    from tlcore.training.callbacks import ChangingStateBackup

    images = np.zeros((8, 8, 8, 3), dtype="float32")
    _model().fit(images, np.zeros(8), epochs=1, verbose=0, callbacks=[ChangingStateBackup(str(tmp_path))])

    with pytest.raises(ValueError, match="another model or freeze depth"):
        _model(freeze_first=False).fit(images, np.zeros(8), epochs=2, verbose=0,
                                       callbacks=[ChangingStateBackup(str(tmp_path))])
