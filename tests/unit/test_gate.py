from skuflow.training.promote import gate


def test_first_model_is_promoted():
    assert gate(0.5, None, 0.0) == (True, "no champion yet")


def test_better_challenger_is_promoted_and_tie_is_not():
    assert gate(0.91, 0.90, 0.0)[0]
    promoted, reason = gate(0.90, 0.90, 0.0)
    assert not promoted and "not better" in reason


def test_margin_must_be_cleared():
    assert not gate(0.905, 0.90, 0.01)[0]
    assert gate(0.911, 0.90, 0.01)[0]
    assert not gate(0.80, 0.90, 0.0)[0]
