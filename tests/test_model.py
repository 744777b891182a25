import numpy as np
import pytest

from genre_lstm.model.network import (
    ModelConfig,
    build_model,
    inference_models,
    input_names,
    pitch_feature_table,
    rhythm_tables,
    set_pitch_tables,
)


def test_paper_preset_is_fig5_layer_for_layer():
    model = build_model(ModelConfig.for_preset("paper", 7765))
    kinds = [type(layer).__name__ for layer in model.layers[1:]]
    assert kinds == ["LSTM", "LSTM", "LSTM", "BatchNormalization", "Dropout", "Dense", "Activation",
                     "BatchNormalization", "Dropout", "Dense", "Activation"]
    lstms = [layer for layer in model.layers if type(layer).__name__ == "LSTM"]
    assert [(l.units, l.recurrent_dropout) for l in lstms] == [(512, 0.3)] * 3
    assert model.input_shape == (None, 100, 1) and model.output_shape == (None, 7765)
    assert model.count_params() == 7_381_077


@pytest.mark.parametrize("features", [{"metric_position": False}, {}, {"pitch_features": True},
                                      {"pitch_features": True, "top_line_features": True},
                                      {"range_conditioning": True}])
def test_step_model_matches_the_full_model_at_every_step(features):
    config = ModelConfig.for_preset("default", 40, units=[24, 24], embed_dim=8, **features)
    model = build_model(config)
    if config.pitch_features:
        set_pitch_tables(model, config, [(), ()] + [(48 + i, 55 + i % 7) for i in range(38)])
    prime, step = inference_models(model, config)
    tables = rhythm_tables(model)
    rng = np.random.default_rng(0)
    sizes = {"token": 40, "duration": config.n_durations, "shift": config.n_shifts, "position": 97, "meter": 18,
             "low": 128, "high": 128}
    names = input_names(config)
    history = [rng.integers(0, sizes[name], (3, 31)).astype("int32") for name in names]
    inputs = dict(zip(names, (h[:, :30] for h in history)))
    inputs.update(next_token=history[0][:, 1:], next_duration=history[1][:, 1:])
    full = model(inputs, training=False)
    outputs = [np.asarray(x) for x in prime([h[:, :1] for h in history], training=False)]
    for t in range(1, 30):
        token, duration = history[0][:, t], history[1][:, t]  # what the sampler would have drawn
        np.testing.assert_allclose(outputs[0], np.asarray(full["token"][:, t - 1]), atol=1e-5)
        np.testing.assert_allclose(outputs[1] + tables["duration_given_token"][token],
                                   np.asarray(full["duration"][:, t - 1]), atol=1e-5)
        np.testing.assert_allclose(outputs[2] + tables["shift_given_token"][token] + tables["shift_given_duration"][duration],
                                   np.asarray(full["shift"][:, t - 1]), atol=1e-5)
        outputs = [np.asarray(x) for x in step([h[:, t:t + 1] for h in history] + outputs[3:], training=False)]


def test_paper_prime_over_a_100_window_equals_the_paper_model():
    config = ModelConfig.for_preset("paper", 30, units=[8, 8, 8], dense_units=8)
    model = build_model(config)
    prime, _ = inference_models(model, config)
    window = np.random.default_rng(1).random((2, 100, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(prime([window], training=False)[0]),
                               np.asarray(model(window, training=False)), atol=1e-6)


def test_pitch_features_describe_each_tokens_pitches_classes_and_bass():
    table = pitch_feature_table([(), (60, 64, 67), (43, 71)])
    assert not table[0].any()
    assert set(np.flatnonzero(table[1])) == {60, 64, 67, 128 + 0, 128 + 4, 128 + 7, 140 + 0}
    assert set(np.flatnonzero(table[2])) == {43, 71, 128 + 7, 128 + 11, 140 + 7}


def test_top_line_features_add_each_tokens_highest_pitch():
    table = pitch_feature_table([(), (60, 64, 67), (43, 71)], top_line=True)
    assert table.shape == (3, 152 + 128)
    np.testing.assert_array_equal(table[:, :152], pitch_feature_table([(), (60, 64, 67), (43, 71)]))
    assert list(np.flatnonzero(table[1, 152:])) == [67] and list(np.flatnonzero(table[2, 152:])) == [71]


def test_pitch_features_make_chords_sharing_notes_score_alike():
    """A new network with pitch features already ranks tokens by shared pitches: what it learns
    for one chord moves every chord with the same notes."""
    config = ModelConfig.for_preset("default", 5, units=[8], embed_dim=4, pitch_features=True)
    model = build_model(config)
    set_pitch_tables(model, config, [(), (), (60, 64, 67), (60, 64), (50, 53)])
    kernel = model.get_layer("pitch_scores").get_weights()[0]
    assert kernel.shape == (152, 5) and not model.get_layer("pitch_scores").trainable
    query = np.zeros(152, "float32")
    query[[60, 64]] = 1.0
    scores = query @ kernel
    assert scores[2] == scores[3] == 2 and scores[4] == 0


def test_the_paper_preset_has_no_pitch_features():
    from genre_lstm.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="pitch features"):
        ModelConfig.for_preset("paper", 50, pitch_features=True)
    with pytest.raises(InvalidParameterError, match="pitch_features too"):
        ModelConfig.for_preset("default", 50, top_line_features=True)


def test_with_parts_the_sampled_part_conditions_every_head_as_in_training():
    from genre_lstm.music.events import Part

    parts = [Part("Soprano", 52), Part("Alto", 52), Part("Tenor", 52), Part("Bass", 52)]
    config = ModelConfig.for_preset("default", 40, units=[24, 24], embed_dim=8, parts=parts, previous_in_part=True)
    assert config.has_parts and input_names(config)[-1] == "part"
    assert ModelConfig.from_json(config.to_json()).parts == parts  # one typed config, parts included
    model = build_model(config)
    prime, step = inference_models(model, config)
    tables = rhythm_tables(model)
    rng = np.random.default_rng(0)
    sizes = {"token": 40, "duration": config.n_durations, "shift": config.n_shifts, "position": 97, "meter": 18,
             "part": 4}
    names = input_names(config)
    history = {name: rng.integers(0, sizes[name], (3, 21)).astype("int32") for name in names}
    inputs = {name: h[:, :20] for name, h in history.items()}
    previous = rng.integers(0, 129, (3, 20)).astype("int32")  # the latest pitch of each predicted step's part
    inputs.update(next_token=history["token"][:, 1:], next_duration=history["duration"][:, 1:],
                  next_part=history["part"][:, 1:], next_previous=previous)
    full = model(inputs, training=False)
    outputs = [np.asarray(x) for x in prime([history[n][:, :1] for n in names], training=False)]
    for t in range(1, 20):
        token, duration, part = history["token"][:, t], history["duration"][:, t], history["part"][:, t]
        np.testing.assert_allclose(outputs[3], np.asarray(full["part"][:, t - 1]), atol=1e-5)
        np.testing.assert_allclose(outputs[0] + tables["token_given_part"][part]
                                   + tables["token_given_previous"][previous[:, t - 1]],
                                   np.asarray(full["token"][:, t - 1]), atol=1e-5)
        np.testing.assert_allclose(outputs[1] + tables["duration_given_token"][token] + tables["duration_given_part"][part],
                                   np.asarray(full["duration"][:, t - 1]), atol=1e-5)
        np.testing.assert_allclose(outputs[2] + tables["shift_given_token"][token]
                                   + tables["shift_given_duration"][duration] + tables["shift_given_part"][part],
                                   np.asarray(full["shift"][:, t - 1]), atol=1e-5)
        outputs = [np.asarray(x) for x in step([history[n][:, t:t + 1] for n in names] + outputs[4:], training=False)]
