"""User names in charts are text: plotly renders a subset of HTML in labels and hover text, so a class named
`<a href=…>` would be a live link in a chart; tlcore.figures writes such names as entities (issue 31, item 2)."""

import json

from tlcore import figures

EVIL = "<a href='http://evil.example/'>L</a><b>B</b>"


def _no_markup(figure) -> None:
    data = [{key: value for key, value in trace.items() if key != "customdata"}  # data, rendered only via templates
            for trace in figure.to_plotly_json()["data"]]
    text = json.dumps(data) + json.dumps(figure.to_plotly_json()["layout"])
    assert "<a href" not in text and "<b>B" not in text
    assert "&lt;a href=" in text  # still shown, as the characters it is made of


def test_confusion_matrix_labels_and_hover_are_plain_but_clicks_keep_the_real_name():
    figure = figures.confusion_cells([[3, 1], [0, 4]], [EVIL, "cat"])
    _no_markup(figure)
    assert "customdata[0]" not in figure.data[0].hovertemplate  # the hover shows the escaped copies
    assert figure.data[0].customdata[0][0] == EVIL  # what a click reports is the class itself


def test_probability_bars_and_class_counts_are_plain():
    _no_markup(figures.top_k([(EVIL, 0.9), ("cat", 0.1)]))
    _no_markup(figures.class_counts({EVIL: 3, "cat": 2}))
