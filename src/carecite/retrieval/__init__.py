"""Retrieve: dense (Chroma) + lexical (BM25) + structured (SQL) under one RetrievalFilter, fused and re-ranked."""
