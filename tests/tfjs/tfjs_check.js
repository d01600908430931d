#!/usr/bin/env node
// TensorFlow.js side of seqnet's TF.js Layers-format tests (see tfjs_test.sh).
//
// Usage: node tfjs_check.js [--tfjs MODULES_DIR] SUBCOMMAND ARGS...
//   make DIR
//       Builds a set of small Keras-style models with the TF.js Layers API,
//       gives every weight seeded random values in [-0.5, 0.5], predicts on
//       fixed inputs (batch 3) and writes, per case, DIR/<case>/model.json +
//       weights.bin (model.save through tf.io.withSaveHandler), the inputs
//       DIR/<case>/in_K.npy and TF.js's outputs DIR/<case>/tfjs_out_K.npy.
//       Variants of some cases lay the weight files out as TF.js's Python
//       converter may: several manifest groups and shards split mid-weight,
//       and uint8/uint16/float16 weight quantization (their TF.js outputs come
//       from loading the variant back). DIR/<case>/about.txt says what a case
//       covers; DIR/<case>/expect_summary.txt (some cases) lists what
//       `seqnet summary` must print ('!' first: must not print).
//       DIR/cases.txt lists the cases made ("<case> <n_inputs> <n_outputs>"),
//       DIR/unsupported.txt the ones TF.js itself refused ("<case>\t<error>").
//   predict MODEL_JSON OUT_PREFIX IN.npy...
//       Loads MODEL_JSON (and its shards, from its directory) with
//       tf.loadLayersModel through an fs-backed IOHandler, predicts and writes
//       OUT_PREFIX_K.npy for each model output K (from 0). Exit 3 when the
//       model uses something TF.js does not implement (the message says
//       what), 1 for any other failure.
//   inputs MODEL_JSON OUT_PREFIX [T]
//       Writes deterministic inputs OUT_PREFIX_K.npy (batch 3) for each input
//       of the Keras model config in MODEL_JSON, from the input layers'
//       batch_input_shape (T, default 7, for a None axis); inputs that feed
//       an Embedding get token ids in [1, input_dim) (row 1 zero-padded at
//       the end when the Embedding has mask_zero). Prints the file names.
//   outputs MODEL_JSON
//       Prints the number of outputs of the model.
//   compare A.npy REF.npy REL_TOL
//       Prints "max_abs_diff threshold max_abs_ref" where threshold is
//       REL_TOL * max(1, max|REF|); exit 0 when the shapes are equal, nothing
//       is NaN and max_abs_diff <= threshold, 1 otherwise (with the reason on
//       stderr).
//
// TF.js is found with --tfjs DIR (a node_modules directory), else $TFJS_MODULES,
// else through NODE_PATH / the usual resolution of '@tensorflow/tfjs'.
'use strict';

const fs = require('fs');
const path = require('path');

// ---------------------------------------------------------------- arguments
let argv = process.argv.slice(2);
let tfjsDir = process.env.TFJS_MODULES || null;
if (argv[0] === '--tfjs') {
  tfjsDir = argv[1];
  argv = argv.slice(2);
}

let tfCache = null;
function loadTf() {
  if (tfCache) return tfCache;
  // TF.js greets Node users (install tfjs-node, ...) on the console; keep
  // stdout for our own lines.
  const origWarn = console.warn, origLog = console.log;
  const quiet = (orig) => (...a) => {
    const s = a.map(String).join(' ');
    if (/tfjs-node|^=+$|looks like you are running TensorFlow\.js in Node/.test(s.trim())) return;
    orig.apply(console, a);
  };
  console.warn = quiet(origWarn);
  console.log = quiet(origLog);
  const id = '@tensorflow/tfjs';
  const tf = tfjsDir ? require(require.resolve(id, {paths: [tfjsDir]})) : require(id);
  tf.setBackend('cpu');
  tfCache = tf;
  return tf;
}

function die(msg, code = 1) {
  process.stderr.write(`tfjs_check: ${msg}\n`);
  process.exit(code);
}

// ---------------------------------------------------------------- .npy I/O
function writeNpy(file, shape, data) {
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== f32.length) throw new Error(`writeNpy ${file}: shape ${shape} but ${f32.length} values`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header + ' '.repeat(total - 10 - header.length - 1) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength);
  // Little-endian host assumed (x86/arm); checked once here.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian host');
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  let hlen, off;
  if (major === 1) {
    hlen = buf.readUInt16LE(8);
    off = 10;
  } else {
    hlen = buf.readUInt32LE(8);
    off = 12;
  }
  const header = buf.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shapeM = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM) throw new Error(`${file}: bad header ${header}`);
  if (fortran[1] === 'True') throw new Error(`${file}: Fortran order not supported`);
  const shape = shapeM[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const start = off + hlen;
  const raw = buf.subarray(start);
  const out = new Float32Array(n);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const kinds = {'<f4': [4, (i) => dv.getFloat32(i, true)], '<f8': [8, (i) => dv.getFloat64(i, true)],
                 '<i4': [4, (i) => dv.getInt32(i, true)], '<i8': [8, (i) => Number(dv.getBigInt64(i, true))]};
  const k = kinds[descr[1]];
  if (!k) throw new Error(`${file}: dtype ${descr[1]} not supported`);
  if (raw.length < n * k[0]) throw new Error(`${file}: truncated`);
  for (let i = 0; i < n; ++i) out[i] = k[1](i * k[0]);
  return {shape, data: out};
}

// ---------------------------------------------------------------- helpers
// Deterministic floats in [lo, hi) (mulberry32), independent of TF.js.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function floatInput(shape, seed, lo = -1, hi = 1) {
  const r = prng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; ++i) d[i] = lo + (hi - lo) * r();
  return {shape, data: d};
}

// Token ids in [1, vocab) with zero padding: row 0 full, row 1 padded at the
// end, row 2 padded at the start (pre-padding, as Keras' pad_sequences does)
// and, when T >= 6, one zero in the middle of row 0.
function idInput(batch, T, vocab, seed, pad = true) {
  const r = prng(seed);
  const d = new Float32Array(batch * T);
  for (let b = 0; b < batch; ++b) {
    for (let t = 0; t < T; ++t) {
      let v = 1 + Math.floor(r() * (vocab - 1));
      if (pad) {
        if (b % 3 === 1 && t >= T - Math.max(1, Math.floor(T / 3))) v = 0;
        if (b % 3 === 2 && t < Math.max(1, Math.floor(T / 3))) v = 0;
        if (b % 3 === 0 && T >= 6 && t === Math.floor(T / 2)) v = 0;
      }
      d[b * T + t] = v;
    }
  }
  return {shape: [batch, T], data: d};
}

// Every weight of the model set to seeded tf.randomUniform values in [-0.5, 0.5].
function randomizeWeights(tf, model, seed) {
  const ws = model.weights.map((w, i) => tf.randomUniform(w.shape, -0.5, 0.5, 'float32', seed * 1000 + i));
  model.setWeights(ws);
  tf.dispose(ws);
}

function joinWeightData(tf, wd) {
  if (wd == null) return new ArrayBuffer(0);
  if (Array.isArray(wd)) {
    if (tf.io.CompositeArrayBuffer) return tf.io.CompositeArrayBuffer.join(wd);
    return tf.io.concatenateArrayBuffers(wd);
  }
  return wd;
}

async function saveModel(tf, model, dir, saveConfig) {
  fs.mkdirSync(dir, {recursive: true});
  await model.save(tf.io.withSaveHandler(async (a) => {
    const data = joinWeightData(tf, a.weightData);
    const json = {
      format: a.format,
      generatedBy: a.generatedBy,
      convertedBy: a.convertedBy,
      modelTopology: a.modelTopology,
      weightsManifest: [{paths: ['weights.bin'], weights: a.weightSpecs}],
    };
    if (a.trainingConfig != null) json.trainingConfig = a.trainingConfig;
    if (a.userDefinedMetadata != null) json.userDefinedMetadata = a.userDefinedMetadata;
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(data));
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }), saveConfig);
}

function toTensors(tf, arrays) {
  return arrays.map((a) => tf.tensor(a.data, a.shape, 'float32'));
}

async function predictArrays(tf, model, arrays) {
  const xs = toTensors(tf, arrays);
  let ys = model.predict(xs.length === 1 ? xs[0] : xs, {batchSize: 32});
  if (!Array.isArray(ys)) ys = [ys];
  const out = [];
  for (const y of ys) out.push({shape: y.shape.slice(), data: Float32Array.from(await y.data())});
  tf.dispose(xs);
  tf.dispose(ys);
  return out;
}

// ---------------------------------------------------------------- the cases
// Each case: build(tf) -> model, inputs: list of {shape, data}, optional
// prepare(tf, model) run after the weights are randomized, optional save
// config.
const B = 3, T = 6;

function cases() {
  return [
    {
      name: 'lstm_seq_dense',
      why: 'Sequential LSTM(return_sequences) -> Dense, fixed time axis',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.lstm({units: 8, returnSequences: true, inputShape: [T, 4]}));
        m.add(tf.layers.dense({units: 3}));
        return m;
      },
      inputs: () => [floatInput([B, T, 4], 11)],
    },
    {
      name: 'gru_default',
      why: 'TF.js default GRU (hard_sigmoid, reset_after false) -> Dense',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.gru({units: 6, inputShape: [null, 4]}));
        m.add(tf.layers.dense({units: 2, activation: 'sigmoid'}));
        return m;
      },
      inputs: () => [floatInput([B, T, 4], 12)],
    },
    {
      name: 'gru_reset_before_sigmoid',
      why: 'GRU resetAfter false, recurrentActivation sigmoid, return_sequences',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.gru({units: 5, resetAfter: false, recurrentActivation: 'sigmoid', returnSequences: true,
                             inputShape: [null, 3]}));
        return m;
      },
      inputs: () => [floatInput([B, T, 3], 13)],
    },
    {
      name: 'gru_reset_after',
      why: 'GRU resetAfter true (Keras 2.3+ default)',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.gru({units: 5, resetAfter: true, inputShape: [null, 3]}));
        return m;
      },
      inputs: () => [floatInput([B, T, 3], 14)],
    },
    {
      name: 'simplernn_relu',
      why: 'SimpleRNN(relu, return_sequences) -> Dense',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.simpleRNN({units: 7, activation: 'relu', returnSequences: true, inputShape: [null, 4]}));
        m.add(tf.layers.dense({units: 2}));
        return m;
      },
      inputs: () => [floatInput([B, T, 4], 15)],
    },
    {
      name: 'lstm_hardsig_backwards',
      why: 'LSTM recurrentActivation hardSigmoid, goBackwards, return_sequences; then LSTM goBackwards',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.lstm({units: 6, recurrentActivation: 'hardSigmoid', goBackwards: true, returnSequences: true,
                              inputShape: [null, 4]}));
        m.add(tf.layers.lstm({units: 4, recurrentActivation: 'hardSigmoid', goBackwards: true}));
        return m;
      },
      inputs: () => [floatInput([B, T, 4], 16)],
    },
    {
      name: 'bilstm_concat',
      why: 'Bidirectional(LSTM, return_sequences) merge concat -> Dense',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.bidirectional({layer: tf.layers.lstm({units: 5, returnSequences: true}), mergeMode: 'concat',
                                       inputShape: [null, 4]}));
        m.add(tf.layers.dense({units: 2}));
        return m;
      },
      inputs: () => [floatInput([B, T, 4], 17)],
    },
    {
      name: 'bilstm_sum',
      why: 'Bidirectional(LSTM) merge sum',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.bidirectional({layer: tf.layers.lstm({units: 5}), mergeMode: 'sum', inputShape: [null, 4]}));
        return m;
      },
      inputs: () => [floatInput([B, T, 4], 18)],
    },
    {
      name: 'bigru_ave_birnn_mul',
      why: 'Bidirectional(GRU, seq) merge ave -> Bidirectional(SimpleRNN) merge mul',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.bidirectional({layer: tf.layers.gru({units: 4, returnSequences: true}), mergeMode: 'ave',
                                       inputShape: [null, 3]}));
        m.add(tf.layers.bidirectional({layer: tf.layers.simpleRNN({units: 3}), mergeMode: 'mul'}));
        return m;
      },
      inputs: () => [floatInput([B, T, 3], 19)],
    },
    {
      name: 'emb_mask_gru',
      why: 'Embedding(mask_zero) -> GRU -> Dense, zero-padded ids',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.embedding({inputDim: 20, outputDim: 6, maskZero: true, inputShape: [null]}));
        m.add(tf.layers.gru({units: 8}));
        m.add(tf.layers.dense({units: 3, activation: 'softmax'}));
        return m;
      },
      inputs: () => [idInput(B, 8, 20, 20)],
    },
    {
      name: 'emb_mask_lstm_seq_td',
      why: 'Embedding(mask_zero) -> LSTM(return_sequences) -> TimeDistributed(Dense), mask through the sequence',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.embedding({inputDim: 15, outputDim: 5, maskZero: true, inputShape: [8]}));
        m.add(tf.layers.lstm({units: 6, returnSequences: true}));
        m.add(tf.layers.timeDistributed({layer: tf.layers.dense({units: 3})}));
        return m;
      },
      inputs: () => [idInput(B, 8, 15, 21)],
    },
    {
      name: 'emb_mask_bilstm',
      why: 'Embedding(mask_zero) -> Bidirectional(LSTM) concat -> Dense',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.embedding({inputDim: 12, outputDim: 4, maskZero: true, inputShape: [null]}));
        m.add(tf.layers.bidirectional({layer: tf.layers.lstm({units: 4}), mergeMode: 'concat'}));
        m.add(tf.layers.dense({units: 2}));
        return m;
      },
      inputs: () => [idInput(B, 8, 12, 22)],
    },
    {
      name: 'lstm_timedistributed',
      why: 'LSTM(return_sequences) -> TimeDistributed(Dense(tanh))',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.lstm({units: 6, returnSequences: true, inputShape: [null, 4]}));
        m.add(tf.layers.timeDistributed({layer: tf.layers.dense({units: 4, activation: 'tanh'})}));
        return m;
      },
      inputs: () => [floatInput([B, T, 4], 23)],
    },
    {
      name: 'functional_two_inputs_concat',
      why: 'functional: two inputs, two LSTMs, Concatenate -> Dense(softmax)',
      build: (tf) => {
        const a = tf.input({shape: [null, 4], name: 'left'});
        const b = tf.input({shape: [null, 3], name: 'right'});
        const ha = tf.layers.lstm({units: 5, name: 'lstm_left'}).apply(a);
        const hb = tf.layers.lstm({units: 6, goBackwards: true, name: 'lstm_right'}).apply(b);
        const c = tf.layers.concatenate({name: 'concat'}).apply([ha, hb]);
        const y = tf.layers.dense({units: 3, activation: 'softmax', name: 'out'}).apply(c);
        return tf.model({inputs: [a, b], outputs: y});
      },
      inputs: () => [floatInput([B, T, 4], 24), floatInput([B, 5, 3], 25)],
    },
    {
      name: 'functional_initial_state',
      why: 'functional seq2seq: LSTM(return_state) states -> second LSTM initialState; two outputs',
      build: (tf) => {
        const enc = tf.input({shape: [null, 4], name: 'encoder_in'});
        const dec = tf.input({shape: [null, 3], name: 'decoder_in'});
        const [, h, c] = tf.layers.lstm({units: 6, returnState: true, name: 'encoder'}).apply(enc);
        const seq = tf.layers.lstm({units: 6, returnSequences: true, name: 'decoder'}).apply(dec, {initialState: [h, c]});
        const y = tf.layers.dense({units: 5, activation: 'softmax', name: 'proj'}).apply(seq);
        return tf.model({inputs: [enc, dec], outputs: [y, h]});
      },
      inputs: () => [floatInput([B, T, 4], 26), floatInput([B, 4, 3], 27)],
    },
    {
      name: 'gru_initial_state',
      why: 'functional: GRU(return_state) state -> GRU initialState',
      build: (tf) => {
        const enc = tf.input({shape: [null, 3]});
        const dec = tf.input({shape: [null, 3]});
        const [, h] = tf.layers.gru({units: 5, returnState: true}).apply(enc);
        const seq = tf.layers.gru({units: 5, returnSequences: true}).apply(dec, {initialState: [h]});
        return tf.model({inputs: [enc, dec], outputs: seq});
      },
      inputs: () => [floatInput([B, T, 3], 28), floatInput([B, 4, 3], 29)],
    },
    {
      name: 'lstm_compiled_adam',
      why: 'compiled (Adam, meanSquaredError) and trained one step, saved with includeOptimizer (trainingConfig + optimizer weights in the manifest)',
      build: (tf) => {
        const m = tf.sequential();
        m.add(tf.layers.lstm({units: 4, inputShape: [null, 3]}));
        m.add(tf.layers.dense({units: 1}));
        m.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
        return m;
      },
      prepare: async (tf, m) => {
        randomizeWeights(tf, m, 500);  // a seeded start, so the Adam moments are deterministic too
        const x = tf.tensor(floatInput([4, 5, 3], 30).data, [4, 5, 3]);
        const y = tf.tensor(floatInput([4, 1], 31).data, [4, 1]);
        await m.fit(x, y, {epochs: 1, batchSize: 4, verbose: 0, shuffle: false});
        tf.dispose([x, y]);
      },
      save: {includeOptimizer: true},
      // `seqnet summary` must show these (a leading '!': must not show).
      expectSummary: ['Compiled: optimizer Adam (learning_rate 0.01', 'loss "mean_squared_error"', '!Warning'],
      inputs: () => [floatInput([B, T, 3], 32)],
    },
  ];
}

function variants() {
  return [
    {name: 'sharded_two_groups', base: 'functional_two_inputs_concat', shard: true,
     why: 'functional_two_inputs_concat with its weights in 2 manifest groups of 3 and 2 shards, split mid-weight'},
    {name: 'quant_uint8', base: 'bilstm_concat', quant: 'uint8',
     why: 'bilstm_concat with uint8 affine-quantized weights (quantization: {dtype, scale, min})'},
    {name: 'quant_uint16', base: 'bilstm_concat', quant: 'uint16',
     why: 'bilstm_concat with uint16 affine-quantized weights'},
    {name: 'quant_float16', base: 'emb_mask_gru', quant: 'float16',
     why: 'emb_mask_gru with float16-quantized weights'},
  ];
}

function f32ToF16(val) {
  const f = new Float32Array([val]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 255) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1), halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1))) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half += 1;
  return sign | half;
}

// Rewrites the case in src as variant v in vdir.
function writeVariant(src, vdir, v) {
  const j = readModelJson(path.join(src, 'model.json'));
  const data = fs.readFileSync(path.join(src, 'weights.bin'));
  const specs = j.weightsManifest[0].weights;
  fs.mkdirSync(vdir, {recursive: true});
  if (v.shard) {
    const half = Math.ceil(specs.length / 2);
    const groups = [specs.slice(0, half), specs.slice(half)];
    let off = 0;
    const manifest = [];
    groups.forEach((ws, g) => {
      const bytes = ws.reduce((a, w) => a + 4 * w.shape.reduce((p, d) => p * d, 1), 0);
      const blob = data.subarray(off, off + bytes);
      off += bytes;
      const nShards = g === 0 ? 3 : 2;
      // Uneven cut points that are not multiples of 4 (mid-value splits).
      const cuts = [0];
      for (let i = 1; i < nShards; ++i) cuts.push(Math.floor((bytes * i) / nShards) + 1);
      cuts.push(bytes);
      const paths = [];
      for (let i = 0; i < nShards; ++i) {
        const p = `group${g + 1}-shard${i + 1}of${nShards}.bin`;
        fs.writeFileSync(path.join(vdir, p), blob.subarray(cuts[i], cuts[i + 1]));
        paths.push(p);
      }
      manifest.push({paths, weights: ws});
    });
    j.weightsManifest = manifest;
  } else {
    let off = 0;
    const parts = [];
    const out = specs.map((w) => {
      const n = w.shape.reduce((p, d) => p * d, 1);
      const vals = new Float32Array(data.buffer.slice(data.byteOffset + off, data.byteOffset + off + 4 * n));
      off += 4 * n;
      const spec = Object.assign({}, w);
      if (v.quant === 'float16') {
        const q = new Uint16Array(n);
        for (let i = 0; i < n; ++i) q[i] = f32ToF16(vals[i]);
        parts.push(Buffer.from(q.buffer));
        spec.quantization = {dtype: 'float16'};
      } else {
        const levels = v.quant === 'uint8' ? 255 : 65535;
        let lo = Infinity, hi = -Infinity;
        for (const x of vals) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
        const scale = hi > lo ? (hi - lo) / levels : 1;
        const q = v.quant === 'uint8' ? new Uint8Array(n) : new Uint16Array(n);
        for (let i = 0; i < n; ++i) q[i] = Math.min(levels, Math.max(0, Math.round((vals[i] - lo) / scale)));
        parts.push(Buffer.from(q.buffer));
        spec.quantization = {dtype: v.quant, scale, min: lo};
      }
      return spec;
    });
    fs.writeFileSync(path.join(vdir, 'weights.bin'), Buffer.concat(parts));
    j.weightsManifest = [{paths: ['weights.bin'], weights: out}];
  }
  fs.writeFileSync(path.join(vdir, 'model.json'), JSON.stringify(j));
}

async function cmdMake(dir) {
  const tf = loadTf();
  fs.mkdirSync(dir, {recursive: true});
  const made = [], unsupported = [];
  let seed = 1;
  for (const c of cases()) {
    seed += 1;
    let model;
    try {
      model = c.build(tf);
    } catch (e) {
      unsupported.push(`${c.name}\t${String(e.message || e).split('\n')[0]}`);
      continue;
    }
    if (c.prepare) await c.prepare(tf, model);
    randomizeWeights(tf, model, seed);
    const ins = c.inputs();
    const outs = await predictArrays(tf, model, ins);
    const cdir = path.join(dir, c.name);
    await saveModel(tf, model, cdir, c.save);
    ins.forEach((a, k) => writeNpy(path.join(cdir, `in_${k}.npy`), a.shape, a.data));
    outs.forEach((a, k) => writeNpy(path.join(cdir, `tfjs_out_${k}.npy`), a.shape, a.data));
    fs.writeFileSync(path.join(cdir, 'about.txt'), c.why + '\n');
    if (c.expectSummary) fs.writeFileSync(path.join(cdir, 'expect_summary.txt'), c.expectSummary.join('\n') + '\n');
    made.push(`${c.name} ${ins.length} ${outs.length}`);
    model.dispose();
  }
  // Variants of saved cases, with the weight files laid out as other TF.js
  // writers lay them out: the Python converter's sharding (several groups,
  // shards split mid-weight) and its weight quantization (uint8/uint16
  // affine, float16). TF.js's reference outputs come from loading the
  // variant's files back.
  for (const v of variants()) {
    const src = path.join(dir, v.base);
    if (!fs.existsSync(path.join(src, 'model.json'))) continue;
    const vdir = path.join(dir, v.name);
    writeVariant(src, vdir, v);
    const nin = Number(made.find((l) => l.startsWith(v.base + ' ')).split(' ')[1]);
    const ins = [];
    for (let k = 0; k < nin; ++k) {
      fs.copyFileSync(path.join(src, `in_${k}.npy`), path.join(vdir, `in_${k}.npy`));
      ins.push(readNpy(path.join(vdir, `in_${k}.npy`)));
    }
    const model = await tf.loadLayersModel(fsHandler(tf, path.join(vdir, 'model.json')));
    const outs = await predictArrays(tf, model, ins);
    outs.forEach((a, k) => writeNpy(path.join(vdir, `tfjs_out_${k}.npy`), a.shape, a.data));
    fs.writeFileSync(path.join(vdir, 'about.txt'), v.why + '\n');
    made.push(`${v.name} ${ins.length} ${outs.length}`);
    model.dispose();
  }
  fs.writeFileSync(path.join(dir, 'cases.txt'), made.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'unsupported.txt'), unsupported.length ? unsupported.join('\n') + '\n' : '');
}

// ---------------------------------------------------------------- loading
function readModelJson(file) {
  let j;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot parse model.json: ${e.message}`);
  }
  return j;
}

function fsHandler(tf, file) {
  const j = readModelJson(file);
  const dir = path.dirname(file);
  return {
    load: async () => {
      const specs = [];
      const parts = [];
      for (const group of j.weightsManifest || []) {
        for (const p of group.paths) parts.push(fs.readFileSync(path.join(dir, p)));
        specs.push(...group.weights);
      }
      const all = Buffer.concat(parts);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      const artifacts = {modelTopology: j.modelTopology, weightSpecs: specs, weightData, format: j.format,
                         generatedBy: j.generatedBy, convertedBy: j.convertedBy};
      if (j.trainingConfig != null) artifacts.trainingConfig = j.trainingConfig;
      if (j.userDefinedMetadata != null) artifacts.userDefinedMetadata = j.userDefinedMetadata;
      return artifacts;
    },
  };
}

// Errors that mean "TF.js does not implement this", as opposed to "this
// model.json is wrong".
// (Only GRU reset_after=True so far: TF.js 4.x implements reset-before GRUs
// only. An unknown layer class is not on the list: seqnet should not write
// one into a TF.js model.)
const TFJS_LIMITS = [
  /does not support reset_after/i,
];

async function cmdPredict(modelJson, outPrefix, inputs) {
  const tf = loadTf();
  let model;
  try {
    model = await tf.loadLayersModel(fsHandler(tf, modelJson));
  } catch (e) {
    const msg = String(e.message || e).split('\n')[0];
    if (TFJS_LIMITS.some((r) => r.test(msg))) die(`TF.js cannot run ${modelJson}: ${msg}`, 3);
    die(`TF.js refused ${modelJson}: ${msg}`);
  }
  if (inputs.length !== model.inputs.length) {
    die(`${modelJson}: the model has ${model.inputs.length} inputs, ${inputs.length} given`);
  }
  let outs;
  try {
    outs = await predictArrays(tf, model, inputs.map(readNpy));
  } catch (e) {
    die(`TF.js predict on ${modelJson} failed: ${String(e.message || e).split('\n')[0]}`);
  }
  outs.forEach((a, k) => writeNpy(`${outPrefix}_${k}.npy`, a.shape, a.data));
}

// ---------------------------------------------------------------- inputs
// input_layers / output_layers: a list of [name, node, tensor], or (Keras 3,
// one tensor) just [name, node, tensor].
function asList(v) {
  return Array.isArray(v) && typeof v[0] === 'string' ? [v] : v;
}

function cmdInputs(modelJson, outPrefix, tArg) {
  const Tn = tArg ? Number(tArg) : 7;
  const j = readModelJson(modelJson);
  let topo = j.modelTopology;
  if (topo.model_config) topo = topo.model_config;
  const cls = topo.class_name;
  const cfg = topo.config;
  const layers = Array.isArray(cfg) ? cfg : cfg.layers;
  const specs = [];  // {shape (with nulls), embedding config or null}
  if (cls === 'Sequential') {
    let first = layers[0];
    let shape = first.config.batch_input_shape || first.config.batch_shape;
    let next = first;
    if (first.class_name === 'InputLayer') next = layers[1];
    if (!shape) shape = next.config.batch_input_shape;
    if (!shape) throw new Error(`${modelJson}: no batch_input_shape on the first layer`);
    specs.push({shape, emb: next.class_name === 'Embedding' ? next.config : null});
  } else {
    const byName = new Map(layers.map((l) => [l.name || l.config.name, l]));
    for (const il of asList(cfg.input_layers)) {
      const name = Array.isArray(il) ? il[0] : il;
      const l = byName.get(name);
      if (!l) throw new Error(`${modelJson}: input layer ${name} not found`);
      const shape = l.config.batch_input_shape || l.config.batch_shape;
      // An Embedding fed directly by this input.
      let emb = null;
      for (const other of layers) {
        if (other.class_name !== 'Embedding') continue;
        const nodes = JSON.stringify(other.inbound_nodes || []);
        if (nodes.includes(`"${name}"`)) emb = other.config;
      }
      specs.push({shape, emb});
    }
  }
  const files = [];
  specs.forEach((s, k) => {
    const shape = s.shape.map((d, i) => (i === 0 ? B : d == null ? Tn : d));
    let arr;
    if (s.emb) {
      const vocab = s.emb.input_dim;
      if (shape.length !== 2) throw new Error(`${modelJson}: Embedding input of rank ${shape.length}`);
      arr = idInput(shape[0], shape[1], vocab, 100 + k, false);
      if (s.emb.mask_zero) {
        // Row 1 zero-padded at the end (a third of the steps), so the mask matters.
        const Tm = shape[1], pad = Math.max(1, Math.floor(Tm / 3));
        for (let t = Tm - pad; t < Tm; ++t) arr.data[1 * Tm + t] = 0;
      }
    } else {
      arr = floatInput(shape, 100 + k);
    }
    const f = `${outPrefix}_${k}.npy`;
    writeNpy(f, arr.shape, arr.data);
    files.push(f);
  });
  process.stdout.write(files.join('\n') + '\n');
}

// Number of outputs of the model in MODEL_JSON.
function cmdOutputs(modelJson) {
  const j = readModelJson(modelJson);
  let topo = j.modelTopology;
  if (topo.model_config) topo = topo.model_config;
  const outs = topo.class_name === 'Sequential' ? [null] : asList(topo.config.output_layers);
  const n = outs.length;
  process.stdout.write(`${n}\n`);
}

// ---------------------------------------------------------------- compare
function cmdCompare(a, ref, tol) {
  const x = readNpy(a), y = readNpy(ref);
  if (x.shape.join(',') !== y.shape.join(',')) die(`shape (${x.shape}) of ${a} differs from (${y.shape}) of ${ref}`);
  let maxDiff = 0, maxRef = 0, nan = 0;
  for (let i = 0; i < x.data.length; ++i) {
    const d = Math.abs(x.data[i] - y.data[i]);
    if (Number.isNaN(d)) ++nan;
    else if (d > maxDiff) maxDiff = d;
    const r = Math.abs(y.data[i]);
    if (r > maxRef) maxRef = r;
  }
  const thr = Number(tol) * Math.max(1, maxRef);
  process.stdout.write(`${maxDiff.toExponential(3)} ${thr.toExponential(3)} ${maxRef.toExponential(3)}\n`);
  if (nan) die(`${nan} NaN values comparing ${a} with ${ref}`);
  if (!(maxDiff <= thr)) process.exit(1);
}

// ---------------------------------------------------------------- main
(async () => {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'make' && rest.length === 1) await cmdMake(rest[0]);
    else if (cmd === 'predict' && rest.length >= 3) await cmdPredict(rest[0], rest[1], rest.slice(2));
    else if (cmd === 'inputs' && (rest.length === 2 || rest.length === 3)) cmdInputs(rest[0], rest[1], rest[2]);
    else if (cmd === 'outputs' && rest.length === 1) cmdOutputs(rest[0]);
    else if (cmd === 'compare' && rest.length === 3) cmdCompare(rest[0], rest[1], rest[2]);
    else if (cmd === 'version') process.stdout.write(loadTf().version.tfjs + '\n');
    else die('usage: tfjs_check.js [--tfjs DIR] make DIR | predict MODEL_JSON OUT_PREFIX IN.npy... | ' +
             'inputs MODEL_JSON OUT_PREFIX [T] | outputs MODEL_JSON | compare A.npy REF.npy REL_TOL | version', 2);
  } catch (e) {
    die(String(e && e.stack ? e.stack : e));
  }
})();
