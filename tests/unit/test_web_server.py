"""The server process: loopback unless sign-in guards it; its TensorFlow reserves no GPU memory."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tlcore.web_server import OPEN_OPT_OUT, is_loopback, listening_problem, server_gpu_cap_mb

REPO = Path(__file__).resolve().parents[2]


def test_network_addresses_need_sign_in_or_the_loud_opt_out():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("10.1.2.3")
    assert listening_problem("127.0.0.1", False, {}) is None
    assert "without sign-in" in listening_problem("0.0.0.0", False, {})
    assert "every network interface" in listening_problem("", False, {})
    assert listening_problem("0.0.0.0", True, {}) is None
    assert listening_problem("0.0.0.0", False, {OPEN_OPT_OUT: "1"}) is None


def test_gpu_cap_defaults_to_none_and_bad_values_are_safe():
    assert server_gpu_cap_mb({}) == 0 and server_gpu_cap_mb({"TLSTUDIO_SERVER_GPU_MB": "x"}) == 0
    assert server_gpu_cap_mb({"TLSTUDIO_SERVER_GPU_MB": "512"}) == 512


def test_the_servers_tensorflow_sees_no_gpu_however_it_is_imported():
    """A fresh process as app.py sets it up: TF imported later by some module still sees no GPU, and the job
    processes' environment is unchanged (CUDA_VISIBLE_DEVICES untouched)."""
    script = ("import os, json; from tlcore.web_server import keep_gpu_for_jobs, applied_gpu_setting; "
              "keep_gpu_for_jobs(); import tensorflow as tf; "
              "print(json.dumps({'visible': len(tf.config.get_visible_devices('GPU')), "
              "'setting': applied_gpu_setting(), 'cuda': os.environ.get('CUDA_VISIBLE_DEVICES')}))")
    env = {key: value for key, value in os.environ.items() if key != "TLSTUDIO_SERVER_GPU_MB"}
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"},
                         capture_output=True, text=True, timeout=180, check=True).stdout
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer["visible"] == 0
    assert answer["setting"]["setting"] == "no GPU"
    assert answer["cuda"] == os.environ.get("CUDA_VISIBLE_DEVICES")
