"""clearinghouse: one trustworthy, current list of self-help group meetings across fellowships."""

__version__ = "0.1.0"
