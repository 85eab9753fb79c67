"""Temperature scaling and the expected calibration error."""

import numpy as np
import pytest

from implant_desk.core.learning.calibration import (
    expected_calibration_error,
    fit_temperature,
    softmax_confidences,
)


def _overconfident(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Logits of a 3-system classifier that is right 70 % of the time but says ~99 %."""
    labels = rng.integers(0, 3, n)
    predicted = np.where(rng.random(n) < 0.7, labels, (labels + rng.integers(1, 3, n)) % 3)
    logits = rng.normal(0, 0.5, (n, 3))
    logits[np.arange(n), predicted] += 6.0
    return logits, labels


def test_a_fitted_temperature_makes_confidence_match_accuracy():
    rng = np.random.default_rng(0)
    logits, labels = _overconfident(2000, rng)
    temperature = fit_temperature(logits, labels)
    assert temperature > 2.0  # the over-confident model is cooled down
    test_logits, test_labels = _overconfident(2000, rng)
    before, chosen = softmax_confidences(test_logits)
    after, chosen_after = softmax_confidences(test_logits, temperature)
    correct = chosen == test_labels
    assert (chosen_after == chosen).all()  # the ranking never changes
    assert expected_calibration_error(before, correct) > 0.25
    assert expected_calibration_error(after, correct) < 0.05
    assert after.mean() == pytest.approx(correct.mean(), abs=0.05)


def test_nothing_to_fit_on_keeps_the_logits_as_they_are():
    assert fit_temperature(np.zeros((0, 3)), np.zeros(0)) == 1.0
    assert np.isnan(expected_calibration_error(np.array([]), np.array([])))


def test_ece_of_a_perfectly_calibrated_set_is_zero():
    confidences = np.array([0.8] * 10)
    correct = np.array([1] * 8 + [0] * 2)
    assert expected_calibration_error(confidences, correct) == pytest.approx(0.0)
