"""The demo trial: a CORE-like trial loaded through the application's own services."""

# The simulated trial behind the demo. Any seed gives a CORE-like trial; this one's one-year
# readmission (67/215 vs 90/219, crude OR 0.65, 95% CI 0.44-0.96) resembles CORE's published result.
DEMO_SEED = 9
DEMO_PARTICIPANTS = 441  # randomised, as in CORE
