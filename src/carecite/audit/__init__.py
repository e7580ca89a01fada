"""carecite.audit"""
