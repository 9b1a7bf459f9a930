"""Widgets several pages use: the current dataset, picking a run, the job and task banner, the LR finder, external models."""
