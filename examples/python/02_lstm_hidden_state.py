# From "Difference Between Return Sequences and Return States for LSTMs in
# Keras" (seed tutorial 02), section "Return Sequences": the first complete
# example, one LSTM cell's hidden state output for a 3-step sequence.
# Changed from the tutorial: the imports only (keras -> seqnet.keras).
from seqnet.keras.models import Model
from seqnet.keras.layers import Input
from seqnet.keras.layers import LSTM
from numpy import array
# define model
inputs1 = Input(shape=(3, 1))
lstm1 = LSTM(1)(inputs1)
model = Model(inputs=inputs1, outputs=lstm1)
# define input data
data = array([0.1, 0.2, 0.3]).reshape((1,3,1))
# make and show prediction
print(model.predict(data))
