# From the "Recurrent Neural Networks" notebook chapter (seed tutorial 04),
# section "Examples of RNN Architectures" / "RNNs with Stacked Layers": the
# notebook's cell In [10] (a 4-layer stacked SimpleRNN, summary only).
# Changed from the notebook: the imports only (keras -> seqnet.keras). The
# cell uses names imported by the notebook's earlier cell In [5]; that cell's
# imports are repeated first so that the file runs on its own.
# The notebook's figure cells (ipypublish nb_setup.images_hconcat) only show
# pictures and are left out.

# (imports of In [5])
from seqnet.keras.models import Sequential
from seqnet.keras.layers import Embedding, SimpleRNN

# In [10]:
model = Sequential()
model.add(Embedding(10000, 32))
model.add(SimpleRNN(32, return_sequences=True))
model.add(SimpleRNN(32, return_sequences=True))
model.add(SimpleRNN(32, return_sequences=True))
model.add(SimpleRNN(32))  # This last layer only returns the last outputs.
model.summary()
