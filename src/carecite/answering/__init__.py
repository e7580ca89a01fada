"""Answer: gate → prompt → generate → verify citations."""
