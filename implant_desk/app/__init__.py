"""The PySide6 layer: canvas, panels, dialogs, workers and the controllers that hold policy."""
