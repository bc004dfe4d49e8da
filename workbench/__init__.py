"""Cerebras Workbench: a keyboard-driven terminal workbench for the text-completions API."""

__version__ = "0.1.0"
