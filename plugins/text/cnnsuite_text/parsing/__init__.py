"""Semantic frame parsing (intent detection and slot filling), the text plugin's ``parse`` task."""

from .parser import FrameParser

__all__ = ["FrameParser"]
