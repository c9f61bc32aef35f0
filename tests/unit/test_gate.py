"""The pure decision rule of the champion gate."""

from skuflow.evidence import Gain
from skuflow.registry.aliases import NO_DECISION, NOT_SIGNIFICANT, PROMOTED, WORSE
from skuflow.training.promote import decide


def _gain(gain: float, lower: float, upper: float, rows: int = 2000, confidence: float = 0.95) -> Gain:
    return Gain("macro_f1", rows, 0.90, 0.90 + gain, gain, lower, upper, confidence, 1000)


def test_promotes_only_when_the_lower_bound_clears_the_margin():
    assert decide(_gain(0.02, 0.011, 0.03), 0.0, 500)[0] == PROMOTED
    assert decide(_gain(0.02, 0.011, 0.03), 0.01, 500)[0] == PROMOTED
    verdict, reason = decide(_gain(0.02, 0.009, 0.03), 0.01, 500)
    assert verdict == NOT_SIGNIFICANT and "no significant difference" in reason and "[+0.0090, +0.0300]" in reason


def test_a_tie_is_no_significant_difference_and_a_clear_loss_is_worse():
    verdict, reason = decide(_gain(0.0, 0.0, 0.0), 0.0, 500)
    assert verdict == NOT_SIGNIFICANT and "2,000 rows" in reason
    assert decide(_gain(-0.03, -0.04, -0.02), 0.0, 500)[0] == WORSE


def test_too_few_rows_is_no_decision_whatever_the_gain():
    verdict, reason = decide(_gain(0.2, 0.15, 0.25, rows=499), 0.0, 500)
    assert verdict == NO_DECISION and "only 499 rows" in reason and "need 500" in reason


def test_confidence_zero_keeps_the_point_rule():
    assert decide(_gain(0.001, -0.05, 0.05, confidence=0.0), 0.0, 500)[0] == PROMOTED
    assert decide(_gain(0.0, 0.0, 0.0, confidence=0.0), 0.0, 500)[0] == NOT_SIGNIFICANT  # a tie never promotes
    assert decide(_gain(0.01, 0.0, 0.0, confidence=0.0), 0.01, 500)[0] == PROMOTED  # the margin met exactly
    assert decide(_gain(0.005, 0.0, 0.0, confidence=0.0), 0.01, 500)[0] == NOT_SIGNIFICANT
