"""The look every chart shares (margins, template), so a figure module holds only what its chart shows."""

__all__ = ["LAYOUT"]

LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")
