"""The protocol edge: the language server, its settings and the command line."""

__version__ = "0.1.0"
