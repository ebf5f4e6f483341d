"""Standard exports for the systems around the trial: HL7 FHIR for NHS systems, CDISC ODM for trials units
and sponsors. Each export is made for one member of staff in one role and holds only what that role may see,
by the same policy and selectors as the pages."""
