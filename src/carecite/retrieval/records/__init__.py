"""The patient's structured record as citable statements: lookup under the scope (``lookup``), the
statement renderer (``render``, one table of record kinds), which rows name the asked item
(``naming``), and the item the record lacks (``missing``)."""
