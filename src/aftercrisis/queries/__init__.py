"""Data queries: discrepancies found by automatic checks or raised by the trial manager, answered by the
masked researchers at the participant's site."""
