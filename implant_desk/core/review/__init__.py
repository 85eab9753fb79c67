"""The lab's loop (issue 13): pre-annotate a folder, order what to review next, count the review's state."""
