"""carecite.evaluation"""
