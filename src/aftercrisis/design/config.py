"""Assumptions of a simulated trial, and the readmission model they imply.

The one-year readmission risks in `TrialConfig` are *marginal* risks: the average over sites
(random site effects) and over participants' prior admissions. The conditional log-odds
intercepts that produce them are found once per configuration by quadrature, so that a
trial simulated with `control_risk=0.38` readmits 38% of its control arm in expectation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, logit

HORIZON_DAYS = 365


@dataclass(frozen=True)
class Site:
    code: str
    weight: float  # share of recruitment

    def __post_init__(self) -> None:
        if not self.code:
            raise ValueError("site code: must not be empty")
        if not (math.isfinite(self.weight) and self.weight > 0):
            raise ValueError(f"site {self.code} weight: must be a positive number, got {self.weight}")


# The six CORE teams; recruitment shares are illustrative, unequal as in any multi-site trial.
CORE_SITES: tuple[Site, ...] = (
    Site("CAM", 0.21),
    Site("ISL", 0.19),
    Site("HAR", 0.17),
    Site("ENF", 0.16),
    Site("BRI", 0.14),
    Site("SLO", 0.13),
)


def _check_share(name: str, value: float, *, open_upper: bool = True) -> None:
    ok = 0.0 <= value < 1.0 if open_upper else 0.0 <= value <= 1.0
    if not (math.isfinite(value) and ok):
        raise ValueError(f"{name}: must be a share in [0, 1), got {value}")


@dataclass(frozen=True)
class TrialConfig:
    """What a simulated trial assumes. Defaults describe a CORE-like trial."""

    n: int = 441
    sites: tuple[Site, ...] = CORE_SITES
    control_risk: float = 0.38  # one-year readmission risk, control arm
    treatment_risk: float = 0.29  # one-year readmission risk, intervention arm
    weibull_shape: float = 0.8  # < 1: the readmission hazard falls after discharge
    site_sd: float = 0.25  # SD of the sites' log-odds effects
    loss_to_followup: float = 0.015  # share whose record review ends early (withdrawal)
    death_rate_1y: float = 0.01
    recruitment_start: date = date(2014, 3, 12)
    recruitment_end: date = date(2015, 7, 3)
    max_sessions: int = 10
    session_uptake: float = 0.88  # share of the intervention arm who attend a first session
    session_adherence: float = 0.6  # mean share of the remaining sessions attended once started
    block_sizes: tuple[int, ...] = (2, 4, 6)  # permuted blocks within site, 1:1
    prior_admissions_mean: float = 1.3  # acute admissions in the two years before
    prior_admissions_max: int = 12
    prior_admission_log_odds: float = 0.2  # per prior admission, on one-year readmission
    intervention_weeks: int = field(default=17)  # sessions fall within about four months

    def __post_init__(self) -> None:
        if not (isinstance(self.n, int) and self.n >= 2):
            raise ValueError(f"n: must be an integer of at least 2, got {self.n!r}")
        if not self.sites:
            raise ValueError("sites: at least one site is needed")
        codes = [s.code for s in self.sites]
        if len(set(codes)) != len(codes):
            raise ValueError(f"sites: site codes must be unique, got {codes}")
        for name in ("control_risk", "treatment_risk"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.0 < value < 1.0):
                raise ValueError(f"{name}: must be a risk strictly between 0 and 1, got {value}")
        if not (math.isfinite(self.weibull_shape) and self.weibull_shape > 0):
            raise ValueError(f"weibull_shape: must be positive, got {self.weibull_shape}")
        if not (math.isfinite(self.site_sd) and self.site_sd >= 0):
            raise ValueError(f"site_sd: must be zero or positive, got {self.site_sd}")
        _check_share("loss_to_followup", self.loss_to_followup)
        _check_share("death_rate_1y", self.death_rate_1y)
        _check_share("session_uptake", self.session_uptake, open_upper=False)
        if not 0.0 < self.session_adherence < 1.0:
            raise ValueError(
                f"session_adherence: must be strictly between 0 and 1, got {self.session_adherence}"
            )
        if self.recruitment_end < self.recruitment_start:
            raise ValueError("recruitment_end: is before recruitment_start")
        if self.max_sessions < 1:
            raise ValueError(f"max_sessions: must be at least 1, got {self.max_sessions}")
        if not self.block_sizes or any(b < 2 or b % 2 for b in self.block_sizes):
            raise ValueError(f"block_sizes: 1:1 blocks need even sizes of at least 2, got {self.block_sizes}")
        if not (self.prior_admissions_mean >= 0 and self.prior_admissions_max >= 0):
            raise ValueError("prior_admissions_mean / prior_admissions_max: must not be negative")

    @property
    def site_codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.sites)

    @property
    def site_shares(self) -> np.ndarray:
        weights = np.array([s.weight for s in self.sites], dtype=float)
        return np.asarray(weights / weights.sum(), dtype=float)

    @property
    def odds_ratio(self) -> float:
        """Marginal odds ratio, intervention vs control."""
        return float(
            (self.treatment_risk / (1 - self.treatment_risk)) / (self.control_risk / (1 - self.control_risk))
        )


def treatment_risk_from_odds_ratio(control_risk: float, odds_ratio: float) -> float:
    """The intervention arm's risk implied by a control risk and an odds ratio."""
    if odds_ratio <= 0:
        raise ValueError(f"odds_ratio: must be positive, got {odds_ratio}")
    return float(expit(logit(control_risk) + math.log(odds_ratio)))


def treatment_risk_from_hazard_ratio(control_risk: float, hazard_ratio: float) -> float:
    """The intervention arm's one-year risk under proportional hazards: S1 = S0 ** HR."""
    if hazard_ratio <= 0:
        raise ValueError(f"hazard_ratio: must be positive, got {hazard_ratio}")
    return float(1.0 - (1.0 - control_risk) ** hazard_ratio)


def prior_admissions_pmf(mean: float, maximum: int) -> np.ndarray:
    """Geometric counts with the given mean, the tail gathered at `maximum`."""
    k = np.arange(maximum + 1)
    if mean == 0:
        return np.asarray(k == 0, dtype=float)
    q = mean / (1.0 + mean)
    pmf = (1 - q) * q**k
    pmf[-1] = q**maximum  # P(X >= maximum)
    return pmf


def sample_prior_admissions(u: np.ndarray, mean: float, maximum: int) -> np.ndarray:
    """Inverse-CDF draw of prior admissions from uniforms `u` (any shape)."""
    if mean == 0:
        return np.zeros(u.shape, dtype=np.int64)
    q = mean / (1.0 + mean)
    counts = np.floor(np.log1p(-u) / math.log(q))
    return np.asarray(np.minimum(counts, maximum), dtype=np.int64)


_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite.hermgauss(40)


def _marginal_risk(intercept: float, site_sd: float, slope: float, pmf: np.ndarray, centre: float) -> float:
    u = math.sqrt(2.0) * site_sd * _GH_NODES
    k = np.arange(pmf.size)
    eta = intercept + u[:, None] + slope * (k[None, :] - centre)
    risk = expit(eta) @ pmf
    return float(_GH_WEIGHTS @ risk / math.sqrt(math.pi))


@lru_cache(maxsize=256)
def _intercept(risk: float, site_sd: float, slope: float, mean: float, maximum: int) -> float:
    pmf = prior_admissions_pmf(mean, maximum)
    centre = float(np.arange(pmf.size) @ pmf)
    return float(
        brentq(lambda a: _marginal_risk(a, site_sd, slope, pmf, centre) - risk, -30.0, 30.0, xtol=1e-12)
    )


def intercepts(config: TrialConfig) -> tuple[float, float]:
    """Conditional log-odds intercepts (control, intervention) giving the marginal risks."""
    args = (config.site_sd, config.prior_admission_log_odds, config.prior_admissions_mean)
    return (
        _intercept(config.control_risk, *args, config.prior_admissions_max),
        _intercept(config.treatment_risk, *args, config.prior_admissions_max),
    )


def prior_admissions_centre(config: TrialConfig) -> float:
    pmf = prior_admissions_pmf(config.prior_admissions_mean, config.prior_admissions_max)
    return float(np.arange(pmf.size) @ pmf)


def readmission_risk(
    config: TrialConfig, intervention: np.ndarray, site_effect: np.ndarray, prior: np.ndarray
) -> np.ndarray:
    """Each participant's one-year readmission risk (arrays broadcast together)."""
    a0, a1 = intercepts(config)
    centre = prior_admissions_centre(config)
    eta = np.where(intervention, a1, a0) + site_effect + config.prior_admission_log_odds * (prior - centre)
    return np.asarray(expit(eta), dtype=float)


def readmission_day(u: np.ndarray, risk: np.ndarray, shape: float) -> np.ndarray:
    """Day of first readmission (1, 2, ...; > 365 means none within the year).

    Weibull time with the participant's own scale, chosen so that P(T <= 365) = risk;
    with u uniform, T <= 365 exactly when u >= 1 - risk.
    """
    day = np.full(np.shape(u), np.inf)
    within = u >= 1.0 - risk  # only these need the (costly) power
    t = HORIZON_DAYS * (np.log(u[within]) / np.log1p(-risk[within])) ** (1.0 / shape)
    day[within] = np.maximum(np.ceil(t), 1.0)
    return day
