"""carecite.access"""
