"""Start-up promise: Home, Dataset and Backbones render without importing TensorFlow (it costs ~20 s cold)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from streamlit.testing.v1 import AppTest
page = sys.argv[1]
at = AppTest.from_file("app.py", default_timeout=60)
at.run()
if page != "pages/home.py":
    at.switch_page(page)
    at.run()
print(json.dumps({"titles": [t.value for t in at.title], "errors": [e.value for e in at.exception],
                  "tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules}))
"""


@pytest.mark.parametrize("page,title", [("pages/home.py", "TL Studio"), ("pages/dataset.py", "Dataset"),
                                        ("pages/backbones.py", "Backbones"), ("pages/train.py", "Train")])
def test_page_renders_without_tensorflow(page, title, tmp_path):
    env = {**os.environ, "TLSTUDIO_HOME": str(tmp_path), "KERAS_HOME": str(tmp_path / "keras")}
    result = subprocess.run([sys.executable, "-c", PROBE, page], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["errors"] == []
    assert title in outcome["titles"]
    assert outcome["tensorflow"] is False and outcome["keras"] is False
