"""Evaluate: a run's stored test (or validation) metrics, its mistakes image by image, calibration before and after
temperature scaling, the "not sure" threshold, the model card and demo link, and runs compared.

Every view is drawn from files stored with the run (eval/test.json, eval/test_predictions.csv); TensorFlow never runs
here: a run evaluated before predictions were stored is re-evaluated as a background task.
"""

import streamlit as st

from pages.evaluate_parts import compare as compare_ui
from pages.evaluate_parts import confidence as confidence_ui
from pages.evaluate_parts import embedding_map as map_ui
from pages.evaluate_parts import mistakes as mistakes_ui
from pages.demo_parts.qr import demo_qr
from pages.evaluate_parts import report as report_ui
from pages.shared import pick_run, run_through_app
from pages.shared.external_model import external_evaluation_section
from pages.shared.sharing import demo_link, model_card_downloads
from tlcore import figures
from tlcore.evaluation import is_complete, load_predictions
from tlcore.evaluation.mistakes import calibrated
from tlcore.inference import read_calibration
from tlcore.runs import ACTIVE_STATES, FINISHED

CALIBRATION_MISSING = ("its confidence was calibrated: the temperature and the 'not sure' threshold need a "
                       "re-evaluation")

run_through_app()
st.title("Evaluate")


def can_be_evaluated(run) -> bool:
    return run.evaluation() is not None or (run.model_path.exists() and run.state not in ACTIVE_STATES)


def show_run_evaluation() -> None:
    run = pick_run("Run", can_be_evaluated)
    if run is None:
        st.info("No evaluated run yet: runs are evaluated on their test split when training ends.",
                icon=":material/info:")
        return
    report, record = run.evaluation(), read_calibration(run)
    if not is_complete(run):
        report_ui.reevaluate_offer(run)
    elif record is None and run.model_path.exists():
        report_ui.reevaluate_offer(run, CALIBRATION_MISSING)
    if report is None:
        return
    predictions = load_predictions(run) if "calibration" in report else None
    temperature = record["temperature"] if record else None
    if predictions is not None and temperature is not None:  # the probabilities Predict and Demo show
        predictions = calibrated(predictions, temperature)
    dataset = run.config().dataset
    k = report_ui.headline(report, predictions, record)
    compare_ui.best_marker(run)
    if run.state == FINISHED and run.model_path.exists():
        demo_link(run.id)
        demo_qr(run.id)
    model_card_downloads(run, "evaluate")

    st.header("Confusion matrix")
    mistakes_ui.confusion_section(run.id, report, predictions, dataset)
    if predictions is not None:
        mistakes_ui.mistakes_section(report, predictions, dataset, temperature)
        confidence_ui.calibration_section(report, record)
        confidence_ui.reject_section(run, record)
    report_ui.per_class_table(report)
    history = run.history()
    if history:
        st.plotly_chart(figures.learning_curves(history), key="eval_curves")
    compare_ui.compare_section(run, k)
    map_ui.run_map_section(run)  # the run's features on a map, the cleaner, retrain and compare


show_run_evaluation()
external_evaluation_section()  # a .keras file trained elsewhere, on a dataset folder
