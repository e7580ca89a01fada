"""Ingest: FHIR bundles / synthetic world / policies → SQL records + chunks → vector and BM25 indexes."""
