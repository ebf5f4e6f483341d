"""Closed-form sample sizes for a two-arm, 1:1 trial (two-sided tests).

- Two proportions: the normal approximation (Fleiss, *Statistical Methods for Rates and
  Proportions*), with or without the continuity correction of Fleiss, Tytun and Ury (1980).
- Time to event: events needed by Schoenfeld (1983) or Freedman (1982); participants from the
  probability of an event given uniform accrual and a minimum follow-up (Schoenfeld 1983),
  with Weibull survival, the control arm described by its one-year risk.
- Continuous outcome analysed by ANCOVA on baseline: the t-test size times (1 - rho^2)
  (Frison and Pocock 1992; Borm, Fransen and Lemmens 2007), normal approximation.
- Attrition: divide by the share expected to give the outcome.
Functions return unrounded per-arm sizes or events; `round_up` makes them whole numbers.
"""

from __future__ import annotations

import math

from scipy import integrate, stats


def _z(alpha: float, power: float) -> tuple[float, float]:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha: must be between 0 and 1, got {alpha}")
    if not 0 < power < 1:
        raise ValueError(f"power: must be between 0 and 1, got {power}")
    return float(stats.norm.ppf(1 - alpha / 2)), float(stats.norm.ppf(power))


def _check_risk(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ValueError(f"{name}: must be a risk strictly between 0 and 1, got {value}")


def round_up(value: float) -> int:
    """Smallest whole number not below `value` (tolerating floating-point dust)."""
    return math.ceil(round(value, 9))


def two_proportions(
    control_risk: float,
    treatment_risk: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    continuity: bool = False,
) -> float:
    """Participants per arm to detect `control_risk` vs `treatment_risk`."""
    _check_risk("control_risk", control_risk)
    _check_risk("treatment_risk", treatment_risk)
    if control_risk == treatment_risk:
        raise ValueError("treatment_risk: must differ from control_risk")
    za, zb = _z(alpha, power)
    p1, p2 = control_risk, treatment_risk
    mean = (p1 + p2) / 2
    delta = abs(p1 - p2)
    n = (
        za * math.sqrt(2 * mean * (1 - mean)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    ) ** 2 / delta**2
    if continuity:
        n = n / 4 * (1 + math.sqrt(1 + 4 / (n * delta))) ** 2
    return n


def power_two_proportions(
    per_arm: float,
    control_risk: float,
    treatment_risk: float,
    *,
    alpha: float = 0.05,
    continuity: bool = False,
) -> float:
    """Power of the two-proportion test with `per_arm` participants in each arm."""
    _check_risk("control_risk", control_risk)
    _check_risk("treatment_risk", treatment_risk)
    za = float(stats.norm.ppf(1 - alpha / 2))
    p1, p2 = control_risk, treatment_risk
    mean = (p1 + p2) / 2
    delta = abs(p1 - p2)
    # Inverting the Fleiss-Tytun-Ury correction gives the uncorrected size (n - 1/delta) ** 2 / n.
    n = per_arm - 2 / delta + 1 / (per_arm * delta**2) if continuity else per_arm
    if n <= 0:
        return 0.0
    z = (delta * math.sqrt(n) - za * math.sqrt(2 * mean * (1 - mean))) / math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    return float(stats.norm.cdf(z))


def events_schoenfeld(
    hazard_ratio: float, *, alpha: float = 0.05, power: float = 0.8, allocation: float = 0.5
) -> float:
    """Events needed for the log-rank test / Cox model (Schoenfeld 1983)."""
    if hazard_ratio <= 0 or hazard_ratio == 1:
        raise ValueError(f"hazard_ratio: must be positive and not 1, got {hazard_ratio}")
    if not 0 < allocation < 1:
        raise ValueError(f"allocation: must be between 0 and 1, got {allocation}")
    za, zb = _z(alpha, power)
    return (za + zb) ** 2 / (allocation * (1 - allocation) * math.log(hazard_ratio) ** 2)


def events_freedman(hazard_ratio: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Events needed for the log-rank test, equal allocation (Freedman 1982)."""
    if hazard_ratio <= 0 or hazard_ratio == 1:
        raise ValueError(f"hazard_ratio: must be positive and not 1, got {hazard_ratio}")
    za, zb = _z(alpha, power)
    return (za + zb) ** 2 * (1 + hazard_ratio) ** 2 / (1 - hazard_ratio) ** 2


def power_schoenfeld(events: float, hazard_ratio: float, *, alpha: float = 0.05) -> float:
    za = float(stats.norm.ppf(1 - alpha / 2))
    return float(stats.norm.cdf(math.sqrt(events / 4) * abs(math.log(hazard_ratio)) - za))


def event_probability(
    control_risk_1y: float,
    hazard_ratio: float,
    *,
    accrual_days: float,
    followup_days: float,
    weibull_shape: float = 1.0,
) -> float:
    """Probability that a participant, averaged over both arms, has an event while followed.

    Entry is uniform over `accrual_days`; everyone is followed at least `followup_days` after
    the end of accrual. Survival is Weibull, S0(t) = (1 - risk) ** ((t / 365) ** shape) in the
    control arm and S0 ** HR in the other. With no accrual period, follow-up is `followup_days`.
    """
    _check_risk("control_risk_1y", control_risk_1y)
    if accrual_days < 0 or followup_days <= 0:
        raise ValueError("accrual_days / followup_days: need accrual >= 0 and follow-up > 0 days")
    log_s = math.log1p(-control_risk_1y)

    def survival(t: float) -> float:
        s0 = math.exp(log_s * (t / 365.0) ** weibull_shape)
        return float((s0 + s0**hazard_ratio) / 2)

    if accrual_days == 0:
        return 1 - survival(followup_days)
    area, _ = integrate.quad(survival, followup_days, followup_days + accrual_days)
    return 1 - float(area) / accrual_days


def continuous(
    difference: float, sd: float, *, correlation: float = 0.0, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Participants per arm for a difference in means, ANCOVA on a baseline with `correlation`."""
    if sd <= 0 or difference == 0:
        raise ValueError("difference / sd: need a non-zero difference and a positive sd")
    if not -1 < correlation < 1:
        raise ValueError(f"correlation: must be strictly between -1 and 1, got {correlation}")
    za, zb = _z(alpha, power)
    return 2 * (za + zb) ** 2 * sd**2 * (1 - correlation**2) / difference**2


def inflate_for_attrition(n: float, attrition: float) -> float:
    """Recruit enough that `n` remain when a share `attrition` gives no outcome."""
    if not 0 <= attrition < 1:
        raise ValueError(f"attrition: must be a share in [0, 1), got {attrition}")
    return n / (1 - attrition)
