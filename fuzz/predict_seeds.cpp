// Writes small valid model files into DIR, seeds for the predict fuzz
// target: every layer type, Sequential and functional models, a stateful
// model, None time axes, masks, attention, shared layers. With FORMAT
// "keras" each is also written as a Keras 3 .keras archive and a Keras 2
// .h5 file where that format can hold it (seeds for the keras target);
// with "tfjs" as TF.js models in DIR/<name>/ (the tfjs target).
// Usage: predict_seeds DIR [safetensors|keras|tfjs]

#include <seqnet/seqnet.hpp>

#include <cstdio>
#include <exception>
#include <fstream>
#include <string>

using namespace seqnet;

namespace {

std::string dir;
std::string format = "safetensors";

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  if (!out) throw IOError("cannot write " + path);
}

void write(const Model& m, const std::string& name) {
  if (format == "safetensors") {
    write_bytes(dir + "/" + name + ".safetensors", save_model_to_bytes(m));
  } else if (format == "keras") {
    for (const char* f : {"keras", "h5"}) {
      try {
        write_bytes(dir + "/" + name + "." + f, save_model_bytes(m, f));
      } catch (const ValueError&) {
        // Not every model fits every Keras format (activations of one version).
      }
    }
  } else {
    save_tfjs(m, dir + "/" + name);
  }
}

void everything() {
  clear_session();
  auto seq_in = Input({6, 3});
  auto ids_in = Input({6});
  auto vec_in = Input({4});
  auto masked = Masking(0.0f)(seq_in);
  auto lstm = LSTM(5, {.return_sequences = true, .return_state = true})(masked);
  auto gru = GRU(5, {.return_sequences = true})(lstm[0], {.initial_state = {lstm[1]}});
  auto rnn = SimpleRNN(4, {.activation = "relu", .return_sequences = true})(gru);
  auto bi = Bidirectional(LSTM(3, {.return_sequences = true}), {.merge_mode = "ave"})(rnn);
  auto att = AttentionDecoder(4, 4)(bi);
  auto emb = Embedding(12, 4, {.mask_zero = true})(ids_in);
  auto emb_rnn = GRU(4, {.return_sequences = true, .reset_after = false})(emb);
  auto merged = Concatenate()({Add()({att, emb_rnn}), Subtract()({att, emb_rnn}), Multiply()({att, emb_rnn}),
                               Average()({att, emb_rnn}), Maximum()({att, emb_rnn})});
  auto td = TimeDistributed(Dense(3, {.activation = "tanh"}))(merged);
  auto flat = Flatten()(Dropout(0.2f)(td));
  auto vec = RepeatVector(2)(Activation("relu")(Dense(6)(vec_in)));
  auto joined = Concatenate()({flat, Flatten()(vec)});
  auto out = Dense(2, {.activation = "softmax"})(Reshape({30})(joined));
  write(Model({seq_in, ids_in, vec_in}, {out, lstm[2]}, "everything"), "everything");
}

void sequential() {
  clear_session();
  Sequential s("seq");
  s.add(Input({5, 2}));
  s.add(Bidirectional(GRU(3, {.return_sequences = true})));
  s.add(LayerNormalization());
  s.add(LSTM(4));
  s.add(Dense(1));
  write(s, "sequential");
}

void encoder_decoder() {
  clear_session();
  const int64_t C = 3, U = 4;
  auto enc_in = Input({None, C});
  auto enc = LSTM(U, {.return_sequences = true, .return_state = true})(enc_in);
  auto dec_in = Input({None, C});
  auto dec_lstm = LSTM(U, {.return_sequences = true, .return_state = true});
  auto dec = dec_lstm(dec_in, {.initial_state = {enc[1], enc[2]}});
  auto dense = Dense(C, {.activation = "softmax"});
  auto luong = LuongAttention(4, {.score = "concat"})({dec[0], enc[0]})[0];
  auto dot = Attention()({dec[0], enc[0]});
  auto additive = AdditiveAttention()({dec[0], enc[0]});
  auto feat = Concatenate()({luong, dot, additive});
  write(Model({enc_in, dec_in}, {dense(dec[0]), Dense(C)(feat)}, "train"), "encoder_decoder");
  // The inference decoder: layers shared with the training model.
  auto h_in = Input({U}), c_in = Input({U});
  auto step = dec_lstm(dec_in, {.initial_state = {h_in, c_in}});
  write(Model({dec_in, h_in, c_in}, {dense(step[0]), step[1], step[2]}, "decoder"), "decoder");
}

void stateful() {
  clear_session();
  auto in = Input({4, 2}, {.batch_size = 2});
  auto h = LSTM(3, {.return_sequences = true, .stateful = true})(in);
  h = Bidirectional(GRU(2, {.stateful = true}))(h);
  write(Model({in}, {Dense(1)(h)}, "stateful"), "stateful");
}

void embedding_sequence() {
  clear_session();
  auto ids_in = Input({None});
  auto emb = Embedding(5, 3, {.mask_zero = true})(ids_in);
  auto h = SimpleRNN(3, {.return_sequences = true, .go_backwards = true})(emb);
  auto out = TimeDistributed(Dense(5, {.activation = "softmax"}))(h);
  write(Model({ids_in}, {out}, "tagger"), "embedding_sequence");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: predict_seeds DIR [safetensors|keras|tfjs]\n");
    return 2;
  }
  dir = argv[1];
  if (argc == 3) format = argv[2];
  try {
    set_seed(1);
    everything();
    sequential();
    encoder_decoder();
    stateful();
    embedding_sequence();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
