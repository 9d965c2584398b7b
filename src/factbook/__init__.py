"""factbook: a static documentary site generator."""

__version__ = "0.1.0"
