"""Everything that is not GUI. Never imports Qt (a test enforces it)."""
