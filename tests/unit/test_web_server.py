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


FAKE_TENSORFLOW = '''
"""A stand-in for TensorFlow: slow to import, and `config` exists only once the import has finished."""
import time
time.sleep(float(__import__("os").environ.get("FAKE_TF_IMPORT_S", "1.0")))
calls = []


class config:
    @staticmethod
    def list_physical_devices(kind):
        calls.append("list")
        return []

    @staticmethod
    def set_visible_devices(devices, kind):
        calls.append("hide")
'''

RACE = '''
import json, sys, threading, time, traceback
from tlcore.web_server import keep_gpu_for_jobs, applied_gpu_setting

errors = []

def rerun(imports):
    """What a Streamlit rerun thread does: app.py's set-up, then (on some pages) the lazy import."""
    try:
        keep_gpu_for_jobs()
        if imports:
            import tensorflow
    except Exception:
        errors.append(traceback.format_exc(limit=1))

keep_gpu_for_jobs()  # the first rerun: installs the hook before anything imports TensorFlow
importer = threading.Thread(target=rerun, args=(True,))
importer.start()
while "tensorflow" not in sys.modules:  # the import is under way: the module exists, partially initialised
    time.sleep(0.005)
others = [threading.Thread(target=rerun, args=(i % 2 == 0,)) for i in range(8)]
for thread in others:
    thread.start()
for thread in [importer, *others]:
    thread.join()
keep_gpu_for_jobs()
import tensorflow
print(json.dumps({"errors": errors, "setting": applied_gpu_setting(),
                  "calls": tensorflow.calls}))
'''


def test_reruns_that_meet_a_half_imported_tensorflow_do_not_crash_and_set_up_runs_once(tmp_path):
    """The first interaction after a server start: one rerun is importing TensorFlow while others run app.py's
    `keep_gpu_for_jobs`. Before the fix those saw the partial module in sys.modules and crashed with
    "partially initialized module 'tensorflow' has no attribute 'config'". A slow fake TensorFlow makes the race
    certain (and the test fast)."""
    fake = tmp_path / "fake" / "tensorflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(FAKE_TENSORFLOW)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(fake.parent), str(REPO)]), FAKE_TF_IMPORT_S="1.0")
    out = subprocess.run([sys.executable, "-c", RACE], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer["errors"] == []
    assert answer["setting"]["setting"] == "no GPU"
    assert answer["calls"] == ["list", "hide"]  # configured exactly once, on the finished module
