"""carecite.privacy"""
