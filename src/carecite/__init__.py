"""carecite: cited answers to care-coordination questions."""
