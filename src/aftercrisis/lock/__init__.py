"""The database lock, beside the audit: every trial app's writes obey it, and none of them depends on reporting."""
