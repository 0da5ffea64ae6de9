"""The examples' shared training loop pieces (compression/examples/common/training.py)
and MNIST `train` on them: non-finite steps skipped, clipping, the schedule,
checkpoints, Ctrl-C saving, and resuming checkpoints written before (issue 15)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

import mnist_testutil
from compression.examples.common import training
from compression.examples.mnist import model
from compression.examples.mnist import priors
from compression.examples.mnist import train

v1 = tf.compat.v1


def _step_graph(optimizer, clip_norm, values=(3., 4.)):
  """A graph: w (float32 [2], initial `values`), loss = scale * sum(w), the
  clipped step of `optimizer`; returns (graph, dict of tensors)."""
  graph = tf.Graph()
  with graph.as_default():
    w = v1.get_variable("w", initializer=tf.constant(values))
    scale = v1.placeholder(tf.float32, [2], "scale")
    loss = tf.reduce_sum(scale * w)
    global_step = v1.train.get_or_create_global_step()
    step, skipped = training.clipped_step(optimizer(), loss, [w], global_step,
                                          clip_norm)
    init = v1.global_variables_initializer()
  return graph, dict(w=w, scale=scale, step=step, skipped=skipped,
                     global_step=global_step, init=init)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_step_is_skipped_counted_and_leaves_the_weights(bad):
  graph, t = _step_graph(lambda: v1.train.AdamOptimizer(0.1), clip_norm=1.)
  with v1.Session(graph=graph) as sess:
    sess.run(t["init"])
    sess.run(t["step"], {t["scale"]: [1., 1.]})  # A real step: Adam slots exist.
    names = [v.op.name for v in v1.global_variables()
             if v.op.name not in ("global_step", training.SKIPPED_STEPS)]
    assert any("Adam" in n for n in names), names
    before = sess.run(v1.global_variables())
    before = {v.op.name: value for v, value in zip(v1.global_variables(), before)}
    for _ in range(2):
      sess.run(t["step"], {t["scale"]: [bad, 1.]})
    after = {v.op.name: sess.run(v) for v in v1.global_variables()}
    for name in names:  # The weights and the optimizer's state.
      np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    assert after[training.SKIPPED_STEPS] == 2
    assert after["global_step"] == 3
    sess.run(t["step"], {t["scale"]: [1., 1.]})
    assert not np.array_equal(sess.run(t["w"]), before["w"])
    assert sess.run(t["skipped"]) == 2


@pytest.mark.parametrize("clip_norm,expected_norm", [
    (1., 1.),         # 100 * (3, 4) has norm 500: scaled down to 1.
    (1000., 500.),    # Below the clip: untouched.
    (0., 500.),       # 0: not clipped.
])
def test_clipping_caps_the_gradient_norm_of_the_update(clip_norm, expected_norm):
  # Plain gradient descent with rate 1: the update is minus the (clipped) gradient.
  graph, t = _step_graph(lambda: v1.train.GradientDescentOptimizer(1.),
                         clip_norm)
  with v1.Session(graph=graph) as sess:
    sess.run(t["init"])
    before = sess.run(t["w"])
    sess.run(t["step"], {t["scale"]: [300., 400.]})
    update = before - sess.run(t["w"])
    assert np.linalg.norm(update) == pytest.approx(expected_norm, rel=1e-5)
    np.testing.assert_allclose(update / np.linalg.norm(update), [.6, .8],
                               rtol=1e-5)  # The direction is kept.
    assert sess.run(t["skipped"]) == 0


def test_non_finite_steps_in_a_row_stop_with_one_message():
  guard = training.NonFiniteSteps(limit=3)
  assert guard.finite(1, (1., 2.))
  assert not guard.finite(2, (np.nan, 2.))
  assert not guard.finite(3, (1., np.inf))
  assert guard.finite(4, (1., 2.))  # A finite step resets the count.
  assert not guard.finite(5, (np.nan,))
  assert not guard.finite(6, (np.nan,))
  with pytest.raises(FloatingPointError,
                     match=r"^step 7: the loss was not finite \(nan\) 3 steps in "
                     r"a row; lower --learning_rate$"):
    guard.finite(7, (np.nan,))


def test_schedule_values_at_known_steps():
  def rate(step, **kwargs):
    args = dict(num_steps=100, learning_rate=1e-3)
    args.update(kwargs)
    return training.learning_rate_at(step, **args)

  assert [rate(s) for s in (0, 50, 99)] == [1e-3] * 3
  # Warm-up: step s runs at (s + 1) / warmup_steps of the rate.
  assert rate(0, warmup_steps=10) == pytest.approx(1e-4)
  assert rate(4, warmup_steps=10) == pytest.approx(5e-4)
  assert rate(9, warmup_steps=10) == pytest.approx(1e-3)
  assert rate(10, warmup_steps=10) == 1e-3
  # Geometric decay over the last 20 steps (80..99) from 1e-3 to 1e-5.
  geometric = dict(decay_last=.2, final_learning_rate=1e-5)
  assert rate(79, **geometric) == 1e-3
  assert rate(80, **geometric) == pytest.approx(1e-3 * .01 ** (1 / 20))
  assert rate(89, **geometric) == pytest.approx(1e-4)
  assert rate(99, **geometric) == pytest.approx(1e-5)
  # Step decay (MNIST's --decay_last): exactly learning_rate * 0.1 at once.
  drop = dict(decay_last=.25, final_learning_rate=1e-3 * .1, decay="step")
  assert rate(74, **drop) == 1e-3
  assert rate(75, **drop) == 1e-3 * .1
  assert rate(99, **drop) == 1e-3 * .1
  # The final rate never exceeds the rate before the decay.
  assert rate(99, decay_last=.2, final_learning_rate=1.) == 1e-3
  with pytest.raises(ValueError, match="decay must be 'geometric' or 'step'"):
    rate(0, decay="linear")


def _counter_graph(with_skipped):
  graph = tf.Graph()
  with graph.as_default():
    w = v1.get_variable("w", initializer=tf.constant([1., 2.]))
    global_step = v1.train.get_or_create_global_step()
    skipped = (v1.get_variable(training.SKIPPED_STEPS, [], tf.int64,
                               initializer=v1.zeros_initializer())
               if with_skipped else None)
    saver = (training.ResumableSaver([skipped], max_to_keep=2)
             if with_skipped else v1.train.Saver())
    init = v1.global_variables_initializer()
    advance = tf.group(global_step.assign_add(1), w.assign_add([1., 1.]))
    bump = w.assign_add([0., 10.])  # Stands for the coding-table updates.
  return graph, dict(w=w, global_step=global_step, skipped=skipped, saver=saver,
                     init=init, advance=advance, bump=bump)


def test_resumable_saver_restores_a_checkpoint_without_the_counter(tmp_path):
  graph, old = _counter_graph(with_skipped=False)
  with v1.Session(graph=graph) as sess:
    sess.run(old["init"])
    sess.run(old["advance"])
    sess.run(old["advance"])
    path = old["saver"].save(sess, str(tmp_path / "model.ckpt"), global_step=2)
  graph, new = _counter_graph(with_skipped=True)
  with v1.Session(graph=graph) as sess:
    new["saver"].restore(sess, path)
    assert sess.run(new["global_step"]) == 2
    np.testing.assert_array_equal(sess.run(new["w"]), [3., 4.])
    assert sess.run(new["skipped"]) == 0
    sess.run(new["skipped"].assign(5))
    path = new["saver"].saver.save(sess, str(tmp_path / "new.ckpt"))
  with v1.Session(graph=graph) as sess:  # With the counter: restored too.
    new["saver"].restore(sess, path)
    assert sess.run(new["skipped"]) == 5

  # Any other variable missing still fails.
  graph = tf.Graph()
  with graph.as_default():
    v1.get_variable("w", initializer=tf.constant([1., 2.]))
    v1.get_variable("other", initializer=tf.constant(1.))
    skipped = v1.get_variable(training.SKIPPED_STEPS, [], tf.int64,
                              initializer=v1.zeros_initializer())
    saver = training.ResumableSaver([skipped])
  with v1.Session(graph=graph) as sess:
    with pytest.raises(tf.errors.NotFoundError, match="other"):
      saver.restore(sess, str(tmp_path / "model.ckpt-2"))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stop_signals_set_a_flag_that_check_raises_between_steps(signum):
  before = signal.getsignal(signum)
  with training.StopSignals() as stop:
    stop.check()  # Nothing yet.
    os.kill(os.getpid(), signum)
    time.sleep(.01)  # The handler runs in the main thread at the next bytecode.
    assert stop.received == signum  # No exception came from the handler ...
    with pytest.raises(KeyboardInterrupt, match=signal.Signals(signum).name):
      stop.check()  # ... only from the check.
  assert signal.getsignal(signum) is before


def test_stop_signals_leave_an_ignored_sigint_ignored():
  previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
  try:
    with training.StopSignals() as stop:
      assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
      os.kill(os.getpid(), signal.SIGINT)
      time.sleep(.01)
      stop.check()
      assert stop.received is None
  finally:
    signal.signal(signal.SIGINT, previous)


def test_a_second_signal_stops_at_once_with_the_default_action():
  script = ("import os, signal, time\n"
            "from compression.examples.common import training\n"
            "with training.StopSignals() as stop:\n"
            "  os.kill(os.getpid(), signal.SIGTERM)\n"
            "  time.sleep(.01)\n"
            "  print('first', stop.received, flush=True)\n"
            "  os.kill(os.getpid(), signal.SIGTERM)\n"
            "  time.sleep(5)\n"
            "print('not reached')\n")
  done = subprocess.run([sys.executable, "-c", script], cwd=mnist_testutil.ROOT,
                        env=dict(os.environ, PYTHONPATH=mnist_testutil.ROOT),
                        capture_output=True, text=True, timeout=120)
  assert done.returncode == -signal.SIGTERM, done.stderr
  assert done.stdout == f"first {int(signal.SIGTERM)}\n"
  assert "SIGTERM: stopping after this step" in done.stderr


def test_checkpoints_relative_index_due_and_save_on_interrupt(tmp_path):
  graph, t = _counter_graph(with_skipped=True)
  model_dir = str(tmp_path / "m")
  os.makedirs(model_dir)
  lines = []
  with v1.Session(graph=graph) as sess:
    sess.run(t["init"])
    checkpoints = training.Checkpoints(sess, t["saver"].saver, model_dir,
                                       minutes=60., before_save=t["bump"])
    assert not checkpoints.due()
    path = checkpoints.save(0)
    assert path == os.path.join(model_dir, "model.ckpt-0")
    # before_save ran first: the checkpoint holds its effect.
    np.testing.assert_array_equal(
        tf.train.load_checkpoint(path).get_tensor("w"), [1., 12.])
    checkpoints.minutes = 1e-9
    time.sleep(.01)
    assert checkpoints.due()
    checkpoints.minutes = 60.
    # Nothing ran since step 0: nothing saved, the interrupt goes on.
    with pytest.raises(KeyboardInterrupt):
      with training.saves_on_interrupt(checkpoints, t["global_step"], 0,
                                       lines.append):
        raise KeyboardInterrupt
    assert lines == ["interrupted at step 0; nothing new to save"]
    with pytest.raises(KeyboardInterrupt):
      with training.saves_on_interrupt(checkpoints, t["global_step"], 0,
                                       lines.append):
        sess.run(t["advance"])
        sess.run(t["advance"])
        raise KeyboardInterrupt
    assert lines[1] == (f"interrupted at step 2: saved {model_dir}/model.ckpt-2; "
                        "run the same command again to resume")
  state = tf.train.get_checkpoint_state(model_dir)
  with open(os.path.join(model_dir, "checkpoint")) as f:
    index = f.read()
  assert 'model_checkpoint_path: "model.ckpt-2"' in index, index
  assert model_dir not in index  # Relative: the folder can be moved.
  assert state.model_checkpoint_path == os.path.join(model_dir, "model.ckpt-2")
  # Moved: still found.
  moved = str(tmp_path / "moved")
  os.rename(model_dir, moved)
  assert tf.train.latest_checkpoint(moved) == os.path.join(moved, "model.ckpt-2")


def _mnist_config(model_dir, **kwargs):
  args = dict(model_dir=model_dir, data_dir=mnist_testutil.data_dir(),
              latent_dims=4, batch_size=16, train_size=256, test_size=16,
              log_every=1)
  args.update(kwargs)
  return train.TrainConfig(**args)


def _write_old_layout_checkpoint(config, steps):
  """A checkpoint of `steps` steps as MNIST `train` wrote them before issue 15:
  the old training graph (the main Adam step by minimize(), no skipped_steps
  variable), kept here as it was. Returns the checkpoint's variable names."""
  graph = tf.Graph()
  with graph.as_default():
    v1.set_random_seed(config.seed)
    x_in = v1.placeholder(tf.float32, [None, 28, 28], name="x")
    x = x_in[..., None]
    y = model.analysis_transform(x, config.latent_dims)
    prior = priors.create(config.prior, config.latent_dims, tf.shape(y))
    y_tilde, likelihoods = prior.call(y, training=True)
    x_tilde = model.synthesis_transform(y_tilde)
    rate = tf.reduce_mean(model.bits_per_digit(likelihoods))
    loss = rate + config.lmbda * tf.reduce_mean(tf.abs(x - x_tilde))
    y_hat, _ = prior.call(y, training=False)
    model.synthesis_transform(y_hat)
    global_step = v1.train.get_or_create_global_step()
    learning_rate = v1.placeholder_with_default(
        tf.constant(config.learning_rate, tf.float32), [], name="learning_rate")
    aux_vars = list(prior.aux_variables)
    aux_ids = {id(v) for v in aux_vars}
    main_vars = [v for v in v1.trainable_variables() if id(v) not in aux_ids]
    steps_ops = [v1.train.AdamOptimizer(learning_rate).minimize(
        loss, var_list=main_vars, global_step=global_step)]
    if prior.aux_loss is not None:
      steps_ops.append(v1.train.AdamOptimizer(config.aux_learning_rate).minimize(
          prior.aux_loss, var_list=aux_vars))
    train_op = tf.group(*steps_ops)
    update_op = prior.update_op
    init_op = v1.global_variables_initializer()
    saver = v1.train.Saver(max_to_keep=config.max_to_keep)
  images = np.random.RandomState(0).uniform(
      size=[config.batch_size, 28, 28]).astype(np.float32)
  with v1.Session(graph=graph) as sess:
    sess.run(init_op)
    for _ in range(steps):
      sess.run(train_op, {x_in: images})
    sess.run(update_op)
    saver.save(sess, os.path.join(config.model_dir, "model.ckpt"),
               global_step=steps)
  train.write_config(config.model_dir, config)
  return {n for n, _ in tf.train.list_variables(config.model_dir)}


@pytest.mark.parametrize("prior", ["deep_factorized", "noisy_logistic"])
def test_mnist_resumes_a_checkpoint_written_before_skipped_steps(prior):
  model_dir = mnist_testutil.tmp_dir()
  config = _mnist_config(model_dir, prior=prior, steps=5)
  old_names = _write_old_layout_checkpoint(config, steps=3)
  assert training.SKIPPED_STEPS not in old_names
  lines = []
  result = train.train(config, log=lines.append)
  assert any(l.startswith("  resuming at step 3;") for l in lines), lines
  assert result["first_step"] == 3 and len(result["losses"]) == 2
  assert np.isfinite(result["losses"]).all()
  assert result["skipped_steps"] == 0
  # The variable names carried over; the counter is the only new one.
  new_names = {n for n, _ in tf.train.list_variables(model_dir)}
  assert new_names == old_names | {training.SKIPPED_STEPS}
  assert tf.train.latest_checkpoint(model_dir).endswith("model.ckpt-5")


def test_mnist_clip_norm_changes_the_steps_and_zero_is_the_old_default():
  assert train.TrainConfig(model_dir="x").clip_norm == 0.
  runs = {clip: train.train(_mnist_config(mnist_testutil.tmp_dir(), steps=3,
                                          clip_norm=clip), log=lambda *a: None)
          for clip in (0., 1e-3)}
  # The first loss is before any update; the clip slows the next ones down. (Equal
  # bit for bit: the same graph and kernels in this process, a determinism check.)
  assert runs[0.]["losses"][0] == runs[1e-3]["losses"][0]
  assert runs[0.]["losses"][1:] != runs[1e-3]["losses"][1:]
  assert runs[1e-3]["flags"]["clip_norm"] == 1e-3
  assert runs[0.]["skipped_steps"] == runs[1e-3]["skipped_steps"] == 0


def test_mnist_train_command_takes_clip_norm():
  model_dir = mnist_testutil.tmp_dir()
  proc = mnist_testutil.run_cli(
      "train", f"--model_dir={model_dir}", f"--data_dir={mnist_testutil.data_dir()}",
      "--steps=2", "--batch_size=16", "--latent_dims=4", "--train_size=64",
      "--test_size=16", "--clip_norm=0.5")
  assert proc.returncode == 0, proc.stderr
  with open(os.path.join(model_dir, train.METRICS_FILE)) as f:
    metrics = json.load(f)
  assert metrics["flags"]["clip_norm"] == 0.5
  assert metrics["skipped_steps"] == 0
  proc = mnist_testutil.run_cli("train", f"--model_dir={model_dir}",
                                "--clip_norm=nan")
  assert proc.returncode == 1
  assert proc.stderr.strip().splitlines() == [
      "error: --clip_norm must be a finite number >= 0, got nan"], proc.stderr


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
