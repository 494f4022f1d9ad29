"""hfx: fast HistFactory likelihoods."""

__version__ = "0.1.0"
