"""Dock widgets of the annotation window: file list, box list, label picker, display controls."""
