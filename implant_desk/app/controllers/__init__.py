"""Window policy without widgets: file navigation, the open document and its saving, labels, shortcuts."""
