"""Readmission monitoring on routine health-record data.

The trial's outcome, readmission to acute care within a year of leaving a crisis resolution team,
derived from routine records of a whole service (or a nation) once, as Ibis expressions, and run on
DuckDB (the embedded default), PySpark or PostgreSQL. Pure: no Django.

- `contract`: the tables and columns the routine data must have, and their validation.
- `synthesise`: a realistic synthetic routine data set with planted effects.
- `engines`: where the tables are read from (the one engine-specific place).
- `cohort`: index discharges, exposure to peer support, readmission, time to it, bed days.
- `statistics`, `figures`, `report`: what a service lead wants to see.
"""
