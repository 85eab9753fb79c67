"""What identification results look like in words, without Qt: the folder report (CSV text, the PDF's HTML)
and the wording of a fixture the Identify panel shares with it. The app only paints and prints."""
