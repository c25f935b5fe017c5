"""Widgets for segscope's screens."""
