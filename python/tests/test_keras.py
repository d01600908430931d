"""The Keras surface of seqnet.keras: models learn, files round-trip through
the C++ program, and bad calls raise clear Python exceptions."""

import io
import os
import subprocess
import contextlib

import numpy as np
import pytest

import seqnet.keras as keras
from seqnet.keras import callbacks, layers, models, optimizers
from seqnet.keras.layers import LSTM, Dense, Embedding, Input, TimeDistributed, Bidirectional
from seqnet.keras.models import Model, Sequential
from seqnet.keras.preprocessing.sequence import pad_sequences
from seqnet.keras.utils import to_categorical

CLI = os.environ.get("SEQNET_CLI")


def sum_sign_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 10, 1))
    y = (x.sum(axis=(1, 2)) > 0).astype("int64")
    return x, y  # float64 and int64, converted as Keras converts them


def test_sequential_learns_with_keras_arguments():
    x, y = sum_sign_data(400, 1)
    model = Sequential()
    model.add(LSTM(16, input_shape=(10, 1)))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["acc"])
    history = model.fit(x, y, epochs=25, batch_size=32, verbose=0, validation_split=0.2)
    assert isinstance(history.history, dict)
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert len(history.history["loss"]) == 25 and history.epoch == list(range(25))
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    xt, yt = sum_sign_data(200, 2)
    loss, acc = model.evaluate(xt, yt, verbose=0)
    assert acc > 0.9, acc
    p = model.predict(xt, verbose=0)
    assert p.shape == (200, 1) and p.dtype == np.float32


def test_constructor_list_batch_input_shape_and_summary():
    model = Sequential([LSTM(4, batch_input_shape=(2, 3, 5), stateful=True, return_sequences=True),
                        TimeDistributed(Dense(2))])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.summary()
    text = buf.getvalue()
    assert "lstm" in text and "(2, 3, 4)" in text and "Total params" in text
    assert model.count_params() == 4 * (5 * 4 + 4 * 4 + 4) + (4 * 2 + 2)
    assert [l.name for l in model.layers] == [model.layers[0].name, model.layers[1].name]
    assert model.get_layer(index=0).count_params() == 4 * (5 * 4 + 4 * 4 + 4)


def test_functional_encoder_decoder_with_states():
    enc_in = Input(shape=(None, 6))
    enc_out, h, c = LSTM(8, return_state=True)(enc_in)
    dec_in = Input(shape=(None, 6))
    dec_seq, _, _ = LSTM(8, return_sequences=True, return_state=True)(dec_in, initial_state=[h, c])
    out = Dense(6, activation="softmax")(dec_seq)
    model = Model([enc_in, dec_in], out)
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 6, size=(64, 4))
    x1 = to_categorical(ids, 6)
    x2 = to_categorical(np.concatenate([np.zeros((64, 1), int), ids[:, :-1]], axis=1), 6)
    h = model.fit([x1, x2], x1, epochs=30, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert len(model.inputs) == 2 and model.outputs[0].shape == (None, None, 6)


def test_weights_and_files_round_trip(tmp_path):
    x, y = sum_sign_data(64, 4)
    model = Sequential([LSTM(5, input_shape=(10, 1)), Dense(1)])
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x, y, epochs=1, verbose=0)
    w = model.get_weights()
    assert [a.shape for a in w] == [(1, 20), (5, 20), (20,), (5, 1), (1,)]
    other = models.model_from_json(model.to_json())
    other.set_weights(w)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.skipif(CLI is None, reason="SEQNET_CLI (the seqnet program) not given")
def test_python_and_the_command_line_program_predict_alike(tmp_path):
    x, _ = sum_sign_data(16, 5)
    x = x.astype(np.float32)
    model = Sequential([LSTM(3, input_shape=(10, 1)), Dense(2, activation="softmax")])
    model.save(tmp_path / "py.keras")
    np.save(tmp_path / "x.npy", x)
    subprocess.run([CLI, "predict", str(tmp_path / "py.keras"), "--input", str(tmp_path / "x.npy"), "--output",
                    str(tmp_path / "y.npy")], check=True, capture_output=True)
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), model.predict(x, verbose=0))
    # The other way: a file the program writes, read from Python.
    subprocess.run([CLI, "convert", str(tmp_path / "py.keras"), str(tmp_path / "cli.safetensors")], check=True,
                   capture_output=True)
    back = models.load_model(tmp_path / "cli.safetensors")
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


def test_callbacks_call_back_into_python(tmp_path):
    x, y = sum_sign_data(128, 6)
    seen = []

    class Recorder(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((epoch, dict(logs)))
            logs["extra"] = 1.5

    model = Sequential([LSTM(4, input_shape=(10, 1)), Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    batches = []
    h = model.fit(x, y, epochs=30, batch_size=32, verbose=0, validation_data=(x, y),
                  callbacks=[Recorder(), callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0),
                             callbacks.LambdaCallback(on_batch_end=lambda b, logs: batches.append(b)),
                             callbacks.ModelCheckpoint(str(tmp_path / "ck-{epoch:02d}.safetensors"))])
    # min_delta 10 never counts as an improvement: training stops after epoch 2.
    assert len(h.history["loss"]) == 2 and [e for e, _ in seen] == [0, 1]
    assert "val_accuracy" in seen[0][1] and h.history["extra"] == [1.5, 1.5]
    assert batches == [0, 1, 2, 3] * 2
    assert sorted(os.listdir(tmp_path)) == ["ck-01.safetensors", "ck-02.safetensors"]


def test_utils_match_keras():
    np.testing.assert_array_equal(to_categorical([0, 2, 1], 3), [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert to_categorical(np.array([[1], [0]])).shape == (2, 2)
    np.testing.assert_array_equal(pad_sequences([[1, 2, 3], [4]], maxlen=2), [[2, 3], [0, 4]])
    np.testing.assert_array_equal(pad_sequences([[1, 2, 3], [4]], maxlen=4, padding="post", truncating="post"),
                                  [[1, 2, 3, 0], [4, 0, 0, 0]])


# ---------------------------------------------------------------- bad input

def small_model():
    model = Sequential([LSTM(2, input_shape=(3, 1)), Dense(1)])
    model.compile(loss="mse", optimizer="adam")
    return model


def test_wrong_shapes_raise_value_error():
    model = small_model()
    with pytest.raises(ValueError, match=r"shape"):
        model.fit(np.zeros((4, 3, 2)), np.zeros((4, 1)), verbose=0)
    with pytest.raises(ValueError, match=r"samples"):
        model.fit(np.zeros((4, 3, 1)), np.zeros((5, 1)), verbose=0)


def test_bad_dtypes_raise_type_error_and_layouts_are_accepted():
    model = small_model()
    with pytest.raises(TypeError, match="object"):
        model.predict(np.array([[[1]], [[None]]], dtype=object))
    with pytest.raises(TypeError, match="complex"):
        model.predict(np.zeros((2, 3, 1), dtype=complex))
    x = np.asfortranarray(np.random.default_rng(0).uniform(size=(4, 3, 1)))
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(np.ascontiguousarray(x), verbose=0))
    strided = np.random.default_rng(1).uniform(size=(8, 3, 1))[::2]
    assert model.predict(strided, verbose=0).shape == (4, 1)


def test_nan_in_data_raises():
    model = small_model()
    x = np.zeros((4, 3, 1))
    x[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"nan at index \(2, 1, 0\)"):
        model.fit(x, np.zeros((4, 1)), verbose=0)


def test_unknown_keyword_arguments_raise_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'unitz'"):
        LSTM(4, unitz=3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'epoch'"):
        small_model().fit(np.zeros((2, 3, 1)), np.zeros((2, 1)), epoch=3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'beta'"):
        optimizers.Adam(beta=0.5)


def test_unknown_names_and_missing_files():
    model = Sequential([LSTM(2, input_shape=(3, 1)), Dense(1)])
    with pytest.raises(ValueError, match="unknown loss 'msee'"):
        model.compile(loss="msee", optimizer="adam")
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        model.compile(loss="mse", optimizer="adamm")
    with pytest.raises(ValueError, match="unknown metric"):
        model.compile(loss="mse", optimizer="adam", metrics=["acuracy"])
    with pytest.raises(ValueError, match="activation"):
        LSTM(2, activation="tanhh")
    with pytest.raises(OSError):
        models.load_model("/nonexistent/model.keras")


def test_plot_model_writes_png_and_svg(tmp_path):
    enc_in = Input(shape=(None, 4))
    _, h, c = LSTM(3, return_state=True)(enc_in)
    dec_in = Input(shape=(None, 4))
    out = Dense(4, activation="softmax")(LSTM(3, return_sequences=True)(dec_in, initial_state=[h, c]))
    model = Model([enc_in, dec_in], out)
    keras.utils.plot_model(model, to_file=str(tmp_path / "model.png"), show_shapes=True)
    keras.utils.plot_model(model, to_file=tmp_path / "model.svg")
    assert (tmp_path / "model.png").read_bytes()[1:4] == b"PNG"
    assert b"<svg" in (tmp_path / "model.svg").read_bytes()
    assert "(None, None, 4)" in keras.utils.model_to_dot(model, show_shapes=True)
    with pytest.raises(ValueError, match="extension"):
        keras.utils.plot_model(model, to_file=str(tmp_path / "model.bmp"))


def test_ctrl_c_stops_fit_cleanly_at_the_next_batch(tmp_path):
    script = tmp_path / "long_fit.py"
    script.write_text(
        "import sys, numpy as np\n"
        "from seqnet.keras.models import Sequential\n"
        "from seqnet.keras.layers import LSTM, Dense\n"
        "m = Sequential([LSTM(64, input_shape=(50, 8)), Dense(1)])\n"
        "m.compile(loss='mse', optimizer='adam')\n"
        "x = np.random.rand(512, 50, 8); y = np.random.rand(512, 1)\n"
        "print('started', flush=True)\n"
        "try:\n"
        "    m.fit(x, y, epochs=100000, batch_size=8, verbose=0)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', m.predict(x[:2], verbose=0).shape, flush=True)\n"
        "    sys.exit(3)\n")
    import signal
    import sys
    import time
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "started"
    time.sleep(1.0)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 3 and "interrupted (2, 1)" in out, (p.returncode, out)
    assert time.monotonic() - t0 < 10


def test_initializers_and_regularizers_as_objects_and_names():
    from seqnet.keras import initializers, regularizers
    keras.utils.set_random_seed(5)
    layer = Dense(3, kernel_initializer=initializers.RandomUniform(minval=0.5, maxval=0.6),
                  bias_initializer=initializers.Constant(2.0), kernel_regularizer=regularizers.l2(0.1))
    model = Sequential([layer])
    model.add(Dense(1, kernel_initializer="zeros", kernel_regularizer="l1"))
    model.predict(np.zeros((1, 4)), verbose=0)  # builds it
    kernel, bias = model.layers[0].get_weights()
    assert kernel.shape == (4, 3) and np.all((kernel >= 0.5) & (kernel <= 0.6)) and np.all(bias == 2.0)
    assert np.all(model.layers[1].get_weights()[0] == 0)
    cfg = model.layers[0].get_config()
    assert cfg["kernel_regularizer"]["config"]["l2"] == pytest.approx(0.1)


def test_learning_rate_callbacks_change_the_optimizer():
    x, y = sum_sign_data(64, 7)
    model = Sequential([LSTM(3, input_shape=(10, 1)), Dense(1)])
    model.compile(loss="mse", optimizer=optimizers.SGD(learning_rate=0.1))
    # min_delta 10 never counts as an improvement: after the first epoch the
    # rate halves every epoch (patience 1), down to min_lr.
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0, min_lr=0.02)
    h = model.fit(x, y, epochs=5, verbose=0, callbacks=[reduce])
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.02])
    assert model.optimizer.learning_rate == pytest.approx(0.02)
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 * (epoch + 1))
    h = model.fit(x, y, epochs=3, verbose=0, callbacks=[sched])
    assert h.history["lr"] == pytest.approx([0.01, 0.02, 0.03])
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_dicts_of_arrays_by_input_and_output_names():
    a, b = Input(shape=(3,), name="left"), Input(shape=(3,), name="right")
    out = Dense(1, name="score")(layers.concatenate([a, b]))
    model = Model([a, b], out)
    model.compile(loss="mse", optimizer="sgd")
    xa, xb = np.ones((4, 3)), np.zeros((4, 3))
    np.testing.assert_array_equal(model.predict({"right": xb, "left": xa}, verbose=0),
                                  model.predict([xa, xb], verbose=0))
    model.fit({"left": xa, "right": xb}, {"score": np.ones((4, 1))}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"unknown \['middle'\], missing \['right'\]"):
        model.predict({"left": xa, "middle": xb})


def test_arrays_cross_without_copies_and_stay_the_callers():
    import gc
    import weakref

    rng = np.random.default_rng(5)
    model = Sequential([Embedding(20, 8, mask_zero=True, input_shape=(6,)), Bidirectional(LSTM(5)),
                        Dense(3, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["acc"])
    x = rng.integers(0, 20, size=(40, 6)).astype(np.float32)  # float32, C-ordered: lent, not copied
    y = rng.integers(0, 3, size=(40,)).astype(np.float32)
    x_before, y_before = x.copy(), y.copy()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, validation_data=(x, y))
    model.train_on_batch(x[:8], y[:8])
    model.evaluate(x, y, verbose=0)
    p = model.predict(x, verbose=0)
    # The core never writes into what it was lent.
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(y, y_before)
    # predict's output is the core's own buffer, handed over without a copy,
    # and independent of later calls.
    assert not p.flags["OWNDATA"] and type(p.base).__name__ == "PyCapsule"
    p_again = model.predict(x, verbose=0)
    np.testing.assert_array_equal(p, p_again)
    p_again[:] = 7.0
    np.testing.assert_array_equal(p, model.predict(x, verbose=0))
    # Lent, read-only and converted inputs give the same results.
    read_only = x.copy()
    read_only.setflags(write=False)
    np.testing.assert_array_equal(model.predict(read_only, verbose=0), p)
    np.testing.assert_array_equal(model.predict(x.astype(np.int64), verbose=0), p)
    # get_weights hands out copies; set_weights copies what it is given.
    w = model.get_weights()
    w[0][:] = 0.0
    assert np.abs(model.get_weights()[0]).sum() > 0
    source = [a.copy() for a in model.get_weights()]
    model.set_weights(source)
    source[0][:] = 3.0
    assert not np.any(model.get_weights()[0] == 3.0)
    layer_source = [a.copy() for a in model.layers[2].get_weights()]
    model.layers[2].set_weights(layer_source)
    layer_source[0][:] = 5.0
    assert not np.any(model.layers[2].get_weights()[0] == 5.0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), p)
    # A lent array is released once nothing in the core holds it any more,
    # also when the last holder lets go while the core runs without the GIL.
    lent = rng.integers(0, 20, size=(16, 6)).astype(np.float32)
    watch = weakref.ref(lent)
    model.predict(lent, verbose=0)
    model.fit(lent, y[:16], epochs=1, batch_size=4, verbose=0)
    del lent
    for _ in range(2):
        model.predict(x, verbose=0)
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    gc.collect()
    assert watch() is None


def test_mixed_precision_policies_as_keras_has_them(tmp_path):
    from seqnet.keras import mixed_precision

    assert mixed_precision.global_policy().name == "float32"
    with pytest.raises(ValueError, match="mixed_float16"):
        mixed_precision.set_global_policy("mixed_float16")
    with pytest.raises(TypeError):
        mixed_precision.Policy(3)
    rng = np.random.default_rng(8)
    x = rng.uniform(-1, 1, size=(32, 6, 5)).astype(np.float32)
    reference = Sequential([LSTM(16, input_shape=(6, 5), return_sequences=True), layers.GRU(8), Dense(2)])
    try:
        mixed_precision.set_global_policy(mixed_precision.Policy("mixed_bfloat16"))
        assert mixed_precision.global_policy() == mixed_precision.Policy("mixed_bfloat16")
        model = Sequential([LSTM(16, input_shape=(6, 5), return_sequences=True), layers.GRU(8),
                            Dense(2, dtype="float32")])
    finally:
        mixed_precision.set_global_policy("float32")
    lstm, gru, dense = model.layers
    assert lstm.dtype_policy.name == "mixed_bfloat16" and lstm.compute_dtype == "bfloat16"
    assert lstm.dtype == "float32" and lstm.variable_dtype == "float32"
    assert dense.compute_dtype == "float32"
    assert lstm.get_config()["dtype"] == {"class_name": "Policy", "config": {"name": "mixed_bfloat16"}}
    model.set_weights(reference.get_weights())
    p32, p16 = reference.predict(x, verbose=0), model.predict(x, verbose=0)
    assert p16.dtype == np.float32
    diff = np.abs(p16 - p32).max()
    assert 0 < diff < 0.05 * np.abs(p32).max(), diff
    model.compile(loss="mse", optimizer="adam")
    model.fit(x, p32, epochs=1, verbose=0)
    # The policy travels with the model's file.
    model.save(str(tmp_path / "mixed.keras"))
    loaded = models.load_model(str(tmp_path / "mixed.keras"))
    assert [l.compute_dtype for l in loaded.layers] == ["bfloat16", "bfloat16", "float32"]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    weights = model.get_weights()
    assert all(w.dtype == np.float32 for w in weights)
    assert any(np.any(w.view(np.uint32) & 0xFFFF) for w in weights)  # variables are not rounded to bfloat16
