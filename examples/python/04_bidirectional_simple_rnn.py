# From the "Recurrent Neural Networks" notebook chapter (seed tutorial 04),
# section "Examples of RNN Architectures" / "Bi-Directional RNNs": the
# notebook's cell In [11] (a bidirectional SimpleRNN, summary only).
# Changed from the notebook: the imports only (keras -> seqnet.keras).
# The notebook's figure cells (ipypublish nb_setup.images_hconcat) only show
# pictures and are left out.

# In [11]:
from seqnet.keras import layers
from seqnet.keras.models import Sequential
from seqnet.keras.layers import Embedding, SimpleRNN

model = Sequential()
model.add(layers.Embedding(10000, 32))
model.add(layers.Bidirectional(layers.SimpleRNN(32)))
model.add(layers.Dense(1,activation='sigmoid'))
model.summary()
