"""Inference as plain NumPy array products on a built network's own weights.

On a CPU one sampling step is a few matrix-vector products; a framework call around them costs
more than the arithmetic (``benchmarks/bench_step.py``), so the step runs here as NumPy. The
Keras inference models stay the reference (a test holds both to the same logits) and the path
for GPUs.

Inference-only rewrites of the same arithmetic, done once at load: each LSTM's input and recurrent
kernels are stacked so a step is one product per layer; the default family's embedding tables
(token, duration and shift, and the position, meter, register and part ones of a checkpoint that
has them) are multiplied into the first LSTM's kernel, so its input product becomes one row look-up
per input; the pitch-score table is multiplied into the token head; the paper family's
BatchNormalizations (moving statistics) are multiplied into the Dense layer after each.

A few rows at once (variations of one request) are multiplied panel by panel (``Weights``):
NumPy's BLAS packs the whole matrix into its own layout on every matrix product, which at 2-4 rows
costs more than the arithmetic, while a (K, 64) panel is packed where it lies in the core's cache.
"""

from __future__ import annotations

import numpy as np

from .network import ModelConfig


PANEL = 64  # output columns per panel: K x 64 float32 stays inside a core's L2 cache for K up to 2048
PANEL_ROWS = (2, 3, 4)  # row counts multiplied by panels: faster there, slower at 1 and 16 (bench_step.py)


class Weights:
    """A weight matrix that multiplies rows the faster way for their count: one matrix product, or
    for ``PANEL_ROWS`` rows a product per column panel (a copy cut into panels on first use)."""

    def __init__(self, matrix: np.ndarray):
        self.matrix = np.ascontiguousarray(matrix, np.float32)
        self._panels: np.ndarray | None = None

    def times(self, rows: np.ndarray) -> np.ndarray:
        """``rows @ matrix``."""
        if rows.ndim != 2 or rows.shape[0] not in PANEL_ROWS:
            return rows @ self.matrix
        if self._panels is None:
            self._panels = matrix_to_panels(self.matrix)
        products = np.matmul(rows, self._panels)  # (panels, rows, PANEL)
        return products.transpose(1, 0, 2).reshape(len(rows), -1)[:, :self.matrix.shape[1]]


def matrix_to_panels(matrix: np.ndarray) -> np.ndarray:
    """(K, N) -> (ceil(N / PANEL), K, PANEL): contiguous column panels, the last padded with zeros."""
    inner, outer = matrix.shape
    padded = np.zeros((inner, -(-outer // PANEL) * PANEL), np.float32)
    padded[:, :outer] = matrix
    return np.ascontiguousarray(padded.reshape(inner, -1, PANEL).transpose(1, 0, 2))


def numpy_inference(model, config: ModelConfig) -> "NumpyInference":
    """The NumPy inference of ``model``, built by its model family."""
    return config.family.numpy_inference(model, config)


class NumpyInference:
    """The prime and step calls of one network in NumPy, with the flat list convention of
    ``network.inference_models``: prime([inputs...]) and step([inputs..., h0, c0, h1, c1, ...])
    both return [outputs..., h0, c0, ...]. A model family supplies its first layer's inputs and
    its heads; the LSTM stack is shared."""

    def __init__(self, model, config: ModelConfig):
        self.config = config
        self.weights = {layer.name: [np.asarray(w, np.float32) for w in layer.get_weights()]
                        for layer in model.layers}
        lstms = [self.weights[f"lstm_{index}"] for index in range(len(config.units))]
        self.units = list(config.units)
        # (input + units, 4 units): [x, h] @ stacked is x @ kernel + h @ recurrent_kernel
        self.stacked = [np.concatenate([kernel, recurrent]) for kernel, recurrent, _ in lstms]
        self.biases = [bias for _, _, bias in lstms]
        self.recurrent = [Weights(stacked[-units:]) for stacked, units in zip(self.stacked, self.units)]
        self.deeper = [Weights(stacked) for stacked in self.stacked[1:]]  # the first layer's input: first_layer_inputs
        self.input_count = len(config.family.input_names(config))

    def prime(self, inputs: list) -> list:
        """The whole seed (B, T) at once per layer for the input products, then step by step."""
        batch = inputs[0].shape[0]
        states = [np.zeros((batch, units), np.float32) for units in self.units for _ in "hc"]
        return self._run(inputs, states)

    def step(self, inputs_and_states: list) -> list:
        count = self.input_count
        return self._run(inputs_and_states[:count], [np.asarray(s, np.float32) for s in inputs_and_states[count:]])

    def _run(self, inputs: list, states: list) -> list:
        """Advance every layer over the T positions of ``inputs``; heads on the last position."""
        sequence = None
        new_states = []
        for index, units in enumerate(self.units):
            h, c = states[2 * index], states[2 * index + 1]
            stacked, bias = self.stacked[index], self.biases[index]
            if index == 0:
                before = self.first_layer_inputs(inputs) + bias
            elif len(sequence) > 1:  # the whole seed's input products in one product
                before = np.stack(sequence) @ stacked[:-units] + bias
            else:
                before = None
            outputs = []
            for t in range(len(sequence) if index else len(before)):
                if before is None:  # one step: input and recurrent products as one
                    z = self.deeper[index - 1].times(np.concatenate([sequence[0], h], axis=1)) + bias
                else:
                    z = before[t] + self.recurrent[index].times(h)
                h, c = lstm_gates_to_states(z, c, units)
                outputs.append(h)
            sequence = outputs
            new_states += [h, c]
        return self.heads(sequence[-1]) + new_states

    def first_layer_inputs(self, inputs: list) -> np.ndarray:
        """(T, B, 4 units): the first layer's input product at each position (without its bias)."""
        raise NotImplementedError

    def heads(self, last: np.ndarray) -> list:
        """The outputs at the last position, in ``output_names`` order."""
        raise NotImplementedError


class PaperNumpyInference(NumpyInference):
    """The paper's family: scaled ids in; BatchNorm, Dense and relu, BatchNorm and the token softmax out
    (each inference BatchNorm multiplied into the Dense layer after it)."""

    def __init__(self, model, config: ModelConfig):
        super().__init__(model, config)
        epsilons = [model.get_layer(f"batch_norm_{index}").epsilon for index in (0, 1)]
        kernel, self.dense_bias = batch_norm_into_dense(self.weights["batch_norm_0"], epsilons[0], self.weights["dense"])
        self.dense = Weights(kernel)
        kernel, self.logits_bias = batch_norm_into_dense(self.weights["batch_norm_1"], epsilons[1],
                                                         self.weights["token_logits"])
        self.logits = Weights(kernel)

    def first_layer_inputs(self, inputs: list) -> np.ndarray:
        scaled = np.asarray(inputs[0], np.float32)[..., 0].T  # (T, B): ids / vocabulary size
        return scaled[..., None] * self.stacked[0][0]

    def heads(self, last: np.ndarray) -> list:
        hidden = np.maximum(self.dense.times(last) + self.dense_bias, 0.0)
        return [softmax(self.logits.times(hidden) + self.logits_bias)]


class SequenceNumpyInference(NumpyInference):
    """The default family: each input's embedding (the token's with its pitch projection) looked up
    as rows of the first LSTM's input product; the three heads as one product, the pitch scores
    folded in."""

    def __init__(self, model, config: ModelConfig):
        super().__init__(model, config)
        self.input_tables = embeddings_to_first_lstm_tables(self.weights, config, self.stacked[0])
        self.stacked[0] = self.stacked[0][config.embed_dim:].copy()  # the input part now lives in the tables
        (kernel, self.head_bias), self.head_sizes = heads_to_one_dense(self.weights, config)
        self.head = Weights(kernel)

    def first_layer_inputs(self, inputs: list) -> np.ndarray:
        names = self.config.family.input_names(self.config)
        return sum(self.input_tables[name][np.asarray(ids).T] for name, ids in zip(names, inputs))

    def heads(self, last: np.ndarray) -> list:
        logits = self.head.times(last) + self.head_bias
        return np.split(logits, np.cumsum(self.head_sizes)[:-1], axis=-1)


def lstm_gates_to_states(z: np.ndarray, c: np.ndarray, units: int) -> tuple[np.ndarray, np.ndarray]:
    """Keras's LSTM cell from its pre-activations z = x W + h U + b, gates in Keras's order i, f, c, o."""
    gates = 1.0 / (1.0 + np.exp(-z))
    candidate = np.tanh(z[:, 2 * units: 3 * units])
    c = gates[:, units: 2 * units] * c + gates[:, :units] * candidate
    h = gates[:, 3 * units:] * np.tanh(c)
    return h, c


def softmax(logits: np.ndarray) -> np.ndarray:
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


def batch_norm_into_dense(norm: list, epsilon: float, dense: list) -> tuple[np.ndarray, np.ndarray]:
    """Inference BatchNormalization (gamma, beta, moving mean, moving variance) followed by a Dense
    layer, as one (kernel, bias): normalising is an affine map, so it multiplies into the kernel."""
    gamma, beta, mean, variance = norm
    kernel, bias = dense
    scale = gamma / np.sqrt(variance + epsilon)
    return scale[:, None] * kernel, (beta - mean * scale) @ kernel + bias


def embeddings_to_first_lstm_tables(weights: dict, config: ModelConfig, first_stacked: np.ndarray) -> dict:
    """Each input's embedding table times the first LSTM's input kernel, by input name: (ids, 4 units)
    rows to look up and sum, as the network sums the embeddings before that kernel. With pitch
    features the token's pitch projection is part of its embedding row."""
    kernel = first_stacked[: config.embed_dim]
    tables = {name: weights[f"{name}_embedding"][0] for name in config.family.input_names(config)}
    if config.pitch_features:
        tables["token"] = tables["token"] + weights["token_pitches"][0] @ weights["pitch_embedding"][0]
    return {name: table @ kernel for name, table in tables.items()}


def heads_to_one_dense(weights: dict, config: ModelConfig) -> tuple[tuple[np.ndarray, np.ndarray], list[int]]:
    """The heads (token with its pitch scores folded in, duration, shift, and the part of a model
    with parts) as one Dense layer, and each head's width to split its output."""
    kernels, biases = [], []
    for head in config.family.heads(config):
        kernel, bias = weights[f"{head}_logits"]
        if head == "token" and config.pitch_features:
            query_kernel, query_bias = weights["pitch_query"]
            scores = weights["pitch_scores"][0]
            kernel, bias = kernel + query_kernel @ scores, bias + query_bias @ scores
        kernels.append(kernel)
        biases.append(bias)
    return (np.concatenate(kernels, axis=1), np.concatenate(biases)), [k.shape[1] for k in kernels]
