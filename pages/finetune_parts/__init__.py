"""The Fine-tune page's plans: one phase, gradual unfreezing, freeze-depth sweep."""
