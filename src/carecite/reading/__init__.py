"""Reading the question, once per request (issue 27).

Every rule that reads a question lives here: what kind of question it is (``kind``: coverage,
insurance, other patients, injected instructions), which record kinds, items and modifiers it asks
for (``intent``, over the word tables of ``vocabulary`` and the item naming of ``items``), and the
named, switchable cues those rules fire (``cues``). ``reading.reading.Reading`` gathers one request's
reading; retrieval, ranking, the gates, the answerer and the audit take it instead of re-reading
the question.
"""
