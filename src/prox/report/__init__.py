"""See what was refined: an HTML report of a run, and the same diffs in the terminal."""
