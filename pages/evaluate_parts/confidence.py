"""Evaluate page, UI only: calibration before and after temperature scaling, and the "not sure" threshold chosen
from the user's target with its accuracy/coverage curve. Everything comes from the run's eval/calibration.json."""

from __future__ import annotations

import streamlit as st

from tlcore import evaluation, figures
from tlcore.inference.calibrated import confidence_from_reject
from tlcore.runs import Run

BINS_NOTE = (f"Confidence is the top-1 probability, put in {evaluation.DEFAULT_BINS} equal-width bins. ECE = Σ (share "
             "of images in bin) × |accuracy − mean confidence| over the bins: 0 means the model is exactly as sure "
             "as it is right.")


def calibration_section(report: dict, record: dict | None) -> None:
    st.subheader("Calibration")
    if record is None:
        st.plotly_chart(figures.reliability_diagram(report["calibration"]), key="reliability")
        st.caption(BINS_NOTE + " This run has no temperature yet: its probabilities are the model's own.")
        return
    held_out, temperature = record["held_out"], record["temperature"]
    if held_out["images"] == 0:
        st.info("No held-out images to measure the calibration on.", icon=":material/info:")
        return
    columns = st.columns(3)
    columns[0].metric("Temperature", f"{temperature:.2f}",
                      help=f"Fitted on {record['validation']['images']} validation images by minimising the log "
                           "loss of softmax(logits / T). Above 1: the model was over-confident.")
    columns[1].metric("ECE before", f"{held_out['ece_before']:.3f}")
    columns[2].metric("ECE after", f"{held_out['ece_after']:.3f}",
                      delta=f"{held_out['ece_after'] - held_out['ece_before']:+.3f}", delta_color="inverse")
    left, right = st.columns(2)
    left.plotly_chart(figures.reliability_diagram(held_out["before"], "Before temperature scaling"),
                      key="reliability")
    right.plotly_chart(figures.reliability_diagram(held_out["after"], f"After (T = {temperature:.2f})"),
                       key="reliability_after")
    same = " (the split the temperature was fitted on: no test split)" if held_out["split"] == "validation" else ""
    st.caption(f"Measured on the {held_out['split']} split{same}, {held_out['images']} images. " + BINS_NOTE
               + (f" Note: {record['note']}." if record.get("note") else ""))


def reject_section(run: Run, record: dict | None) -> None:
    st.subheader('"Not sure": the reject option')
    if record is None:
        return
    stored = record["reject"]
    target = st.number_input("Target accuracy on the answers given (%)", min_value=50.0, max_value=100.0,
                             value=round(100 * stored["target_accuracy"], 1), step=1.0, key=f"target_{run.id}",
                             help="The threshold is the lowest calibrated confidence at which the validation "
                                  "images answered support this accuracy: a one-sided 95 % Clopper–Pearson lower "
                                  "bound on their accuracy reaches it, so few answers cannot overpromise. Below it "
                                  "Predict and Demo say 'not sure'.")
    chosen = evaluation.preview_reject(record, target / 100)
    st.plotly_chart(figures.coverage_curve(evaluation.reject_curve(record), chosen), key="coverage_curve")
    held = chosen["held_out"]
    columns = st.columns(3)
    columns[0].metric("Not sure below", "–" if chosen["threshold"] is None else f"{chosen['threshold']:.1%}")
    columns[1].metric("Validation: answered · right", f"{chosen['coverage']:.0%} · {_share(chosen['accuracy'])}")
    columns[2].metric(f"{held['split'].capitalize()}: answered · right",
                      f"{held['coverage']:.0%} · {_share(held['accuracy'])}")
    support = confidence_from_reject(chosen)
    st.markdown(f"**{support.support_note()}**" if support.support_note() else "")
    if chosen.get("lower_bound") is not None:
        st.caption(f"At 95 % confidence the answers given are right at least {chosen['lower_bound']:.1%} of the time "
                   f"({chosen['supported_by']} validation answers, {chosen.get('bound')} bound); "
                   f"{held['split']} accuracy of the answers given: {_share(held['accuracy'])}.")
    if not chosen["met"]:
        st.warning(support.support_warning() or
                   f"No threshold supports {target:.0f} % on the validation split; the best-supported answers "
                   f"{chosen['coverage']:.0%} of the images.", icon=":material/warning:")
    if abs(chosen["target_accuracy"] - stored["target_accuracy"]) > 1e-9:
        if st.button(f"Use this threshold ({target:.0f} % target)", key=f"use_target_{run.id}",
                     icon=":material/check:"):
            evaluation.set_target_accuracy(run, target / 100)
            st.rerun()
    else:
        st.caption("This is the run's threshold: Predict, Demo, batch CSVs and exports use it.")


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"
