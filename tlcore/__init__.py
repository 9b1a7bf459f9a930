"""TL Studio core: all transfer-learning logic, UI-free (never imports streamlit), TensorFlow imported lazily."""

__version__ = "0.1.0"
