"""Test hooks that make a job fail or hang on purpose, switched on only by the env variable `TLSTUDIO_TEST_FAULT`.

`oom` raises TensorFlow's ResourceExhaustedError at the first batch (as a GPU out of memory does);
`hang_in_epoch:N` stops after the first batch of epoch N (1-based) for ten minutes, so a test can kill the worker
mid-epoch at a known point. Unset (always, outside tests), no callback is added at all.
"""

from __future__ import annotations

import os
import time

__all__ = ["FAULT_ENV", "fault_callbacks"]

FAULT_ENV = "TLSTUDIO_TEST_FAULT"


def fault_callbacks() -> list:
    fault = os.environ.get(FAULT_ENV, "")
    if not fault:
        return []
    import keras

    class InjectFault(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1

        def on_train_batch_end(self, batch, logs=None):
            if fault == "oom":
                import tensorflow as tf

                raise tf.errors.ResourceExhaustedError(
                    None, None, "OOM when allocating tensor with shape[32,1280,3,3] (injected by a test)")
            if fault == f"hang_in_epoch:{self.epoch}":
                time.sleep(600)

    return [InjectFault()]
