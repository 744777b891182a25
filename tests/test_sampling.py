import numpy as np

from genre_lstm.model.sampling import sample_indices, scores_to_probabilities


def test_temperature_sharpens_and_top_k_cuts():
    logits = np.log(np.array([[0.5, 0.3, 0.2]]))
    cold = scores_to_probabilities(logits, temperature=0.5)
    assert cold[0, 0] > 0.5
    top2 = scores_to_probabilities(logits, top_k=2)
    assert top2[0, 2] == 0 and np.isclose(top2.sum(), 1)


def test_banned_indices_are_never_drawn():
    probabilities = scores_to_probabilities(np.zeros((1, 4)), banned=[0, 1])
    draws = [sample_indices(probabilities, np.array([u]))[0] for u in np.linspace(0, 0.999999, 50)]
    assert set(draws) == {2, 3}


def test_inverse_cdf_is_deterministic_per_uniform():
    probabilities = np.array([[0.25, 0.25, 0.5]] * 3)
    assert list(sample_indices(probabilities, np.array([0.1, 0.3, 0.9]))) == [0, 1, 2]


def test_a_bias_is_added_to_the_logits_before_temperature_and_top_k():
    logits = np.log(np.array([[0.5, 0.3, 0.2]]))
    biased = scores_to_probabilities(logits, bias=np.array([0.0, 0.0, np.log(4.0)]))
    assert np.allclose(biased, [[0.5 / 1.6, 0.3 / 1.6, 0.8 / 1.6]])
    assert scores_to_probabilities(logits, bias=np.array([-50.0, 0.0, 0.0]), top_k=1)[0].argmax() == 1
