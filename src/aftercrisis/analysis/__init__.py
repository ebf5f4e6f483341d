"""The statistical analysis plan as code (pure: no Django).

- `dataset.load_dataset` reads and validates the analysis dataset (`schema.COLUMNS`);
- `run.run_plan` runs the protocol's analysis section; `run.write_outputs` writes it;
- `exports.export_all` writes CSV, Parquet, Stata and a REDCap data dictionary;
- `consort.Disposition` and `consort.consort_figure` give the CONSORT 2010 diagram.
"""
