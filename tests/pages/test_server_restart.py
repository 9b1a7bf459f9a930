"""A server restart loses no job: the worker is an OS process of its own, so when the Streamlit server that started it
dies, training goes on; a new server finds the run by its folder and the page re-attaches through `?run=`."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from page_helpers import by_label

from tlcore.datasets.sample import SAMPLE_NAME
from tlcore.runs.folders import get_run
from tlcore.training.fault_injection import FAULT_ENV

REPO = Path(__file__).resolve().parents[2]

# What a server does when the user presses Start, then it dies at once (kill -9: no clean-up of any kind).
SERVER_THAT_DIES = textwrap.dedent("""
    import os, signal, sys
    from tlcore import jobs
    from tlcore.config.training import TrainConfig

    run = jobs.submit(TrainConfig.from_dict(__import__("json").loads(sys.argv[1])))
    print(run.id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_job_outlives_its_server_and_a_new_server_re_attaches(studio, open_page, make_config, wait,
                                                                 monkeypatch):
    monkeypatch.setenv(FAULT_ENV, "hang_in_epoch:2")  # holds the job inside epoch 2 while the page looks at it
    config = make_config(SAMPLE_NAME, epochs=3, batch_size=64)  # the digits of this studio's data root
    server = subprocess.run([sys.executable, "-c", SERVER_THAT_DIES, config.to_json()], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert server.returncode == -signal.SIGKILL, server.stderr[-2000:]
    run = get_run(server.stdout.strip())

    status = wait.until(run, lambda s: s.get("state") != "queued" and (s.get("epoch") == 2 and s.get("batch")
                                                                        or s.get("state") != "running"),
                        what="the orphaned worker training epoch 2")
    try:
        assert status["state"] == "running", status.get("error")

        at = open_page("pages/train.py", query_params={"run": run.id})  # a new server, a new session

        progress = at.get("progress")
        assert len(progress) == 1 and "epoch 2/3" in progress[0].text
        assert by_label(at.button, "Cancel job")
        assert run.state == "running"  # found alive again, not marked interrupted
    finally:
        os.kill(status["pid"], signal.SIGKILL)
