"""Fine-tune: continue a finished run with part of the base unfrozen at a lower learning rate."""

import streamlit as st

from pages._shared import job_monitor, pick_run, run_through_app
from tlcore import jobs
from tlcore.layer_tables import layer_table
from tlcore.model import count_params, is_pretrained
from tlcore.runs import FINISHED

run_through_app()
st.title("Fine-tune")
st.markdown("Unfreeze the top of the base and train a little more at a low learning rate; epochs continue from "
            "where the first phase ended.")
parent = pick_run("Run to continue", lambda run: run.state == FINISHED and run.model_path.exists())
if parent is None:
    st.info("No finished run yet: train one on **Train** first.", icon=":material/info:")
    st.stop()

parent_config = parent.config()
table = layer_table(parent_config.backbone)
layer_count = len(table.layers)
class_count = len(parent.class_names())
fine_tune_at = st.slider(f"Unfreeze {parent_config.backbone} from layer (of {layer_count})", 0, layer_count - 1,
                         (layer_count * 2) // 3)
pretrained = is_pretrained(parent_config)
st.caption(f"Layer {fine_tune_at} is `{table.layers[fine_tune_at].name}`; layers below it stay frozen. "
           + ("BatchNorm layers stay frozen (inference mode) to keep their ImageNet statistics." if pretrained else
              "This run started from random weights, so its BatchNorm layers keep learning."))
counts = count_params(parent_config.backbone, class_count, fine_tune_at, pretrained)
c1, c2, c3 = st.columns(3)
c1.metric("Total parameters", f"{counts.total:,}")
c2.metric("Trainable", f"{counts.trainable:,}")
c3.metric("Non-trainable", f"{counts.non_trainable:,}")

c1, c2 = st.columns(2)
learning_rate = c1.number_input("Learning rate (default: 10× lower than the run's)", 1e-7, 0.5,
                                parent_config.learning_rate / 10, format="%.6f")
epochs = c2.number_input("More epochs", 1, 500, 5)
if st.button("Start fine-tuning", type="primary"):
    try:
        job = jobs.submit(parent_config.fine_tune(parent.id, fine_tune_at, float(learning_rate), int(epochs)))
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
    else:
        st.session_state["finetune_job"] = job.id
        st.query_params["job"] = job.id
        st.rerun()

job_id = st.query_params.get("job") or st.session_state.get("finetune_job")
if job_id:
    st.subheader("Fine-tuning job")
    job_monitor(job_id)
