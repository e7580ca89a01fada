"""Text primitives shared by every stage: one sentence splitter, one section vocabulary."""
