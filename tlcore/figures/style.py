"""The look every chart shares (margins, template), so a figure module holds only what its chart shows."""

import html

__all__ = ["LAYOUT", "plain", "plain_all"]

LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")


def plain(label: object) -> str:
    """A user's name (class, file, run) as chart text: plotly renders a subset of HTML in labels, hover text and
    legends (<a href>, <b>, <img>-like tags), so `<`, `>`, `&` and quotes are written as entities; plotly shows them
    as the characters they stand for."""
    return html.escape(str(label), quote=True)


def plain_all(labels) -> list[str]:
    return [plain(label) for label in labels]
