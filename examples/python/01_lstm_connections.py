# From "SEQ2SEQ LEARNING Part B: Using the LSTM layer in a Recurrent Neural
# Network" (seed tutorial 01, the reversed sequence problem): the four ways of
# connecting LSTM layers, sections 1 to 4 ("LSTM with default output",
# "return_sequences=True", "return_state=True", "return_sequences=True &
# return_state=True"), each model listing followed by its train_test() call.
#
# The tutorial text lists only these model cells and train_test() calls; its
# imports, the data generation of Part A and the train_test() helper are in
# the tutorial's notebook, not in the text. The block marked "NOT IN THE
# TUTORIAL TEXT" below is therefore written here, from the text's
# description and printed output: 2000 training and 200 test sequences of 4
# integers in [0, 10) one-hot encoded, y the reversed X; train_test() trains
# up to 100 epochs with EarlyStopping(monitor='val_loss', patience=5) (Adam
# from compile, batch 32, 10% validation split, as the C++ reverse
# experiment reads the tutorial), then prints the train and test accuracy
# and 10 test examples. Everything after that block is the tutorial's text,
# with the imports changed from keras to seqnet.keras.

# ---- NOT IN THE TUTORIAL TEXT: imports, data and train_test() ----
from random import randint
from numpy import array
from numpy import argmax
from seqnet.keras.models import Sequential
from seqnet.keras.models import Model
from seqnet.keras.layers import Input
from seqnet.keras.layers import LSTM
from seqnet.keras.layers import Dense
from seqnet.keras.layers import RepeatVector
from seqnet.keras.layers import TimeDistributed
from seqnet.keras.callbacks import EarlyStopping

# configure the problem
n_timesteps = 4
n_features = 10


# generate a sequence of random integers in [0, n_unique)
def generate_sequence(length, n_unique):
    return [randint(0, n_unique - 1) for _ in range(length)]


# one hot encode a sequence of integers
def one_hot_encode(sequence, n_unique):
    encoding = list()
    for value in sequence:
        vector = [0 for _ in range(n_unique)]
        vector[value] = 1
        encoding.append(vector)
    return array(encoding)


# decode a one hot encoded sequence
def one_hot_decode(encoded_seq):
    return [int(argmax(vector)) for vector in encoded_seq]


# X: random sequences, y: the same sequences reversed
def get_reversed_pairs(time_steps, vocabulary_size, n_samples):
    X, y = list(), list()
    for _ in range(n_samples):
        sequence = generate_sequence(time_steps, vocabulary_size)
        X.append(one_hot_encode(sequence, vocabulary_size))
        y.append(one_hot_encode(sequence[::-1], vocabulary_size))
    return array(X), array(y)


X_train, y_train = get_reversed_pairs(n_timesteps, n_features, 2000)
X_test, y_test = get_reversed_pairs(n_timesteps, n_features, 200)
print('Generated sequence datasets as follows')
print('X_train.shape:', X_train.shape, 'y_train.shape:', y_train.shape)
print('X_test.shape:', X_test.shape, 'y_test.shape:', y_test.shape)


def train_test(model, X_train, y_train, X_test, y_test, epochs=100, batch_size=32, patience=5, verbose=0):
    es = EarlyStopping(monitor='val_loss', mode='min', patience=patience)
    print('training for', epochs, 'epochs begins with EarlyStopping(monitor= val_loss patience=', patience, ')....')
    model.fit(X_train, y_train, validation_split=0.1, epochs=epochs, batch_size=batch_size, verbose=verbose,
              callbacks=[es])
    print(epochs, 'epoch training finished...')
    _, train_acc = model.evaluate(X_train, y_train, batch_size=batch_size, verbose=0)
    _, test_acc = model.evaluate(X_test, y_test, batch_size=batch_size, verbose=0)
    print('PREDICTION ACCURACY (%):')
    print('Train: %.3f, Test: %.3f' % (train_acc * 100, test_acc * 100))
    print('some examples...')
    predicted = model.predict(X_test[:10], batch_size=batch_size)
    for sample in range(10):
        expected = one_hot_decode(y_test[sample])
        guess = one_hot_decode(predicted[sample])
        print('Input', one_hot_decode(X_test[sample]), 'Expected:', expected, 'Predicted', guess, expected == guess)
# ---- end of the part that is not in the tutorial text ----


# 1. LSTM with default output: a single LSTM layer
numberOfUnits=16
model_Single_LSTM_default_output = Sequential(name='model_Single_LSTM_default_output')
model_Single_LSTM_default_output.add(Input(shape=(n_timesteps, n_features)))
# Single LSTM Layer with default output
model_Single_LSTM_default_output.add(LSTM(numberOfUnits))
# Repeat the output of LSTM n_timesteps (4 in our example)
model_Single_LSTM_default_output.add(RepeatVector(n_timesteps))
# Dense layer recieves 4 x LSTM outputs as input vector
model_Single_LSTM_default_output.add(Dense(n_features, activation='softmax'))
model_Single_LSTM_default_output.compile(loss='categorical_crossentropy', optimizer='adam',
                                         metrics=['accuracy'])
model_Single_LSTM_default_output.summary()

train_test(model_Single_LSTM_default_output,
           X_train, y_train , X_test, y_test,
           verbose=0)

# 1. (continued) Multiple LSTM layers connected by their default output
model_LSTM_default_output = Sequential(name='model_LSTM_default_output')
model_LSTM_default_output.add(Input(shape=(n_timesteps, n_features)))
# First LSTM layer
model_LSTM_default_output.add(LSTM(numberOfUnits))
# Repeat the output of the first LSTM n_timesteps (4 in our example)
model_LSTM_default_output.add(RepeatVector(n_timesteps))
# Second LSTM layer recieves 4 x LSTM outputs as input vector
# Reminder LSTM layer requires 3 dimension input!
# (batch_size, timesteps, features)
# Therefore, we repeated the output of First LSTM layer
model_LSTM_default_output.add(LSTM(numberOfUnits))
model_LSTM_default_output.add(RepeatVector(n_timesteps))
# Repeat the output of Second LSTM n_timesteps (4 in our example)
# Dense layer recieves 4 x LSTM outputs as input vector
model_LSTM_default_output.add(Dense(n_features, activation='softmax'))
model_LSTM_default_output.compile(loss='categorical_crossentropy', optimizer='adam',
                                  metrics=['accuracy'])
model_LSTM_default_output.summary()

train_test(model_LSTM_default_output, X_train, y_train , X_test, y_test, verbose=0)

# 2. Multiple LSTM layers connected with return_sequences=True
#@title LSTM with return_sequences=True output
model_LSTM_return_sequences = Sequential(name='model_LSTM_return_sequences')
model_LSTM_return_sequences.add(Input(shape=(n_timesteps, n_features)))
# First LSTM layer with return_sequences=True
model_LSTM_return_sequences.add(LSTM(numberOfUnits,return_sequences=True))
# The output of the First LSTM has the 3 dimensions as expected by
# Second LSTM layer
# Thus, we do not need to use RepeatVector!
model_LSTM_return_sequences.add(LSTM(numberOfUnits,return_sequences=True))
# The output of the Second LSTM has the 3 dimensions
# To supply the output to a dense layer
# we need to use TimeDistributed layer!
model_LSTM_return_sequences.add(TimeDistributed(Dense(n_features, activation='softmax')))
model_LSTM_return_sequences.compile(loss='categorical_crossentropy', optimizer='adam',
                                    metrics=['accuracy'])
model_LSTM_return_sequences.summary()

train_test(model_LSTM_return_sequences, X_train, y_train , X_test, y_test)

# 3. Multiple LSTM layers connected with return_state=True
#@title LSTM with return_state=True output
input= Input(shape=(n_timesteps, n_features))
lstm1 = LSTM(numberOfUnits,return_state=True)
LSTM_output, state_h, state_c = lstm1(input)
states = [state_h, state_c]
repeat=RepeatVector(n_timesteps)
LSTM_output = repeat(LSTM_output)
lstm2 = LSTM(numberOfUnits,return_sequences=True)
all_state_h = lstm2(LSTM_output,initial_state=states)
dense = TimeDistributed(Dense(n_features, activation='softmax'))
output = dense(all_state_h)
model_LSTM_return_state = Model(input,output,name='model_LSTM_return_state')
model_LSTM_return_state.compile(loss='categorical_crossentropy', optimizer='adam',
                                metrics=['accuracy'])
model_LSTM_return_state.summary()

train_test(model_LSTM_return_state, X_train, y_train , X_test, y_test)

# 4. Multiple LSTM layers connected with return_sequences=True & return_state=True
input= Input(shape=(n_timesteps, n_features))
lstm1 = LSTM(numberOfUnits,return_sequences=True,
             return_state=True)
all_state_h, state_h, state_c = lstm1(input)
states = [state_h, state_c]
lstm2 = LSTM(numberOfUnits,return_sequences=True)
all_state_h = lstm2(all_state_h,initial_state=states)
dense = TimeDistributed(Dense(n_features, activation='softmax'))
output = dense(all_state_h)
model_LSTM_return_sequences_return_state = Model(input,output,
                                                 name='model_LSTM_all_state_h_return_state')
model_LSTM_return_sequences_return_state.compile(loss='categorical_crossentropy', optimizer='adam',
                                                 metrics=['accuracy'])
model_LSTM_return_sequences_return_state.summary()

train_test(model_LSTM_return_sequences_return_state, X_train, y_train , X_test, y_test)
