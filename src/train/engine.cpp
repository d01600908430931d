// The one epoch / batch loop of training (train/engine.hpp).

#include "train/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "seqnet/distributed.hpp"
#include "seqnet/error.hpp"
#include "train/progbar.hpp"

namespace seqnet::detail {

void check_loop_options(const LoopOptions& o, const std::string& context) {
  if (o.epochs < 0) throw ValueError(fmt::format("{}: epochs must be >= 0, got {}", context, o.epochs));
  if (o.initial_epoch < 0) {
    throw ValueError(fmt::format("{}: initial_epoch must be >= 0, got {}", context, o.initial_epoch));
  }
  if (o.verbose < 0 || o.verbose > 2) {
    throw ValueError(fmt::format("{}: verbose must be 0, 1 or 2, got {}", context, o.verbose));
  }
  for (size_t i = 0; i < o.callbacks.size(); ++i) {
    if (!o.callbacks[i]) throw ValueError(fmt::format("{}: a callback is null (entry {} of callbacks)", context, i));
  }
}

namespace {

// Gives the callbacks the model for the run and takes it back at the end,
// also when an exception leaves the loop.
class ModelLease {
 public:
  ModelLease(const std::vector<std::shared_ptr<Callback>>& callbacks, Model& model) : callbacks_(callbacks) {
    for (const auto& cb : callbacks_) cb->set_model(&model);
  }
  ~ModelLease() {
    for (const auto& cb : callbacks_) cb->set_model(nullptr);
  }
  ModelLease(const ModelLease&) = delete;
  ModelLease& operator=(const ModelLease&) = delete;

 private:
  const std::vector<std::shared_ptr<Callback>>& callbacks_;
};

}  // namespace

History run_epochs(Model& model, BatchSource& source, const LoopOptions& o) {
  auto history = std::make_shared<History>();
  std::vector<std::shared_ptr<Callback>> callbacks = o.callbacks;
  callbacks.push_back(history);  // last, as in Keras: it records what the others add
  const ModelLease lease(callbacks, model);
  model.stop_training = false;

  Logs train_logs;
  for (auto& cb : callbacks) cb->on_train_begin(train_logs);
  int first_epoch = o.initial_epoch;
  for (const auto& cb : callbacks) {
    const Callback::Resumed* r = cb->resumed();
    if (r == nullptr) continue;
    first_epoch = r->finished ? o.epochs : std::max(first_epoch, r->next_epoch);
    for (const auto& [e, logs] : r->epochs) {
      Logs copy = logs;
      history->on_epoch_end(e, copy);
    }
  }
  for (int epoch = first_epoch; epoch < o.epochs; ++epoch) {
    Logs epoch_logs;
    for (auto& cb : callbacks) cb->on_epoch_begin(epoch, epoch_logs);
    if (o.verbose > 0) std::printf("Epoch %d/%d\n", epoch + 1, o.epochs);
    const int64_t steps = source.begin_epoch(epoch);
    Progbar bar(steps, o.verbose);
    for (int64_t s = 0; s < steps; ++s) {
      Logs batch_logs;
      batch_logs.set("batch", static_cast<double>(s));
      batch_logs.set("size", static_cast<double>(source.batch_samples(s)));
      for (auto& cb : callbacks) cb->on_batch_begin(static_cast<int>(s), batch_logs);
      Logs running = source.train_batch(s);
      for (auto& cb : callbacks) cb->on_batch_end(static_cast<int>(s), running);
      bar.update(s + 1, running);
      if (model.stop_training) break;
    }
    epoch_logs = source.end_epoch();
    const Logs val = source.validate();
    for (const auto& [k, v] : val.items()) epoch_logs.set(k, v);
    bar.finish(epoch_logs);
    for (auto& cb : callbacks) cb->on_epoch_end(epoch, epoch_logs);
    if (model.stop_training) break;
  }
  for (auto& cb : callbacks) cb->on_train_end(train_logs);
  return *history;
}

void refuse_data_parallel(const std::string& context) {
  distributed::init();
  if (!distributed::active()) return;
  throw ValueError(fmt::format("{}: does not train data-parallel: under this MPI launcher's {} ranks each rank would "
                               "train a copy of its own. Run it as one process, or train with Model::fit",
                               context, distributed::world_size()));
}

void check_stateful_batch_size(const Model& model, int64_t batch_size, const std::string& context,
                               const std::string& given) {
  if (!model.stateful()) return;
  const auto& inputs = model.inputs();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int64_t fixed = inputs[i].shape().at(0);
    if (fixed == None || fixed == batch_size) continue;
    throw ValueError(fmt::format("{}: the model is stateful and its input {} ('{}') has a fixed batch size of {} "
                                 "(Input batch_size), so every batch must hold {} samples; got {}",
                                 context, i, inputs[i].node()->layer->name(), fixed, fixed, given));
  }
}

}  // namespace seqnet::detail
