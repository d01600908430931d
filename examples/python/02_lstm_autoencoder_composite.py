# From "A Gentle Introduction to LSTM Autoencoders" (seed tutorial 02),
# section "How to Create LSTM Autoencoders in Keras": Composite LSTM
# Autoencoder (one encoder, a reconstruction and a prediction decoder), the
# complete example.
# Changed from the tutorial: the imports only (keras -> seqnet.keras).
# lstm autoencoder reconstruct and predict sequence
from numpy import array
from seqnet.keras.models import Model
from seqnet.keras.layers import Input
from seqnet.keras.layers import LSTM
from seqnet.keras.layers import Dense
from seqnet.keras.layers import RepeatVector
from seqnet.keras.layers import TimeDistributed
from seqnet.keras.utils import plot_model
# define input sequence
seq_in = array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
# reshape input into [samples, timesteps, features]
n_in = len(seq_in)
seq_in = seq_in.reshape((1, n_in, 1))
# prepare output sequence
seq_out = seq_in[:, 1:, :]
n_out = n_in - 1
# define encoder
visible = Input(shape=(n_in,1))
encoder = LSTM(100, activation='relu')(visible)
# define reconstruct decoder
decoder1 = RepeatVector(n_in)(encoder)
decoder1 = LSTM(100, activation='relu', return_sequences=True)(decoder1)
decoder1 = TimeDistributed(Dense(1))(decoder1)
# define predict decoder
decoder2 = RepeatVector(n_out)(encoder)
decoder2 = LSTM(100, activation='relu', return_sequences=True)(decoder2)
decoder2 = TimeDistributed(Dense(1))(decoder2)
# tie it together
model = Model(inputs=visible, outputs=[decoder1, decoder2])
model.compile(optimizer='adam', loss='mse')
plot_model(model, show_shapes=True, to_file='composite_lstm_autoencoder.png')
# fit model
model.fit(seq_in, [seq_in,seq_out], epochs=300, verbose=0)
# demonstrate prediction
yhat = model.predict(seq_in, verbose=0)
print(yhat)
