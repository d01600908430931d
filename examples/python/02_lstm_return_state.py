# From "Difference Between Return Sequences and Return States for LSTMs in
# Keras" (seed tutorial 02), section "Return States": the complete example with
# return_state=True (last hidden state output, hidden state and cell state).
# Changed from the tutorial: the imports only (keras -> seqnet.keras).
from seqnet.keras.models import Model
from seqnet.keras.layers import Input
from seqnet.keras.layers import LSTM
from numpy import array
# define model
inputs1 = Input(shape=(3, 1))
lstm1, state_h, state_c = LSTM(1, return_state=True)(inputs1)
model = Model(inputs=inputs1, outputs=[lstm1, state_h, state_c])
# define input data
data = array([0.1, 0.2, 0.3]).reshape((1,3,1))
# make and show prediction
print(model.predict(data))
