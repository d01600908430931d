# From the "Recurrent Neural Networks" notebook chapter (seed tutorial 04),
# section "RNNs with Dropout": the notebook's cells In [12], In [13] and
# In [14] (SimpleRNN with dropout and recurrent_dropout, 100 epochs, plots),
# after the data cell In [2] they use.
# Changed from the notebook: the imports only (keras -> seqnet.keras), and the
# data set (below). The plotting cell needs matplotlib.
# IMDB cannot be downloaded here: the SpamAssassin mail corpus (ham 0 / spam 1,
# word indices by frequency, shaped like imdb.load_data) stands in for it,
# imported under the name imdb so that the cells are unchanged.
# The notebook's figure cells (ipypublish nb_setup.images_hconcat) only show
# pictures and are left out.

# In [2]:
from seqnet.keras.datasets import spam_assassin as imdb  # IMDB stand-in (see above)
from seqnet.keras.preprocessing import sequence

max_features = 10000  # number of words to consider as features
maxlen = 500  # cut texts after this number of words (among top max_features most common words)
batch_size = 32

print('Loading data...')
(input_train, y_train), (input_test, y_test) = imdb.load_data(num_words=max_features)
print(len(input_train), 'train sequences')
print(len(input_test), 'test sequences')

print('Pad sequences (samples x time)')
input_train = sequence.pad_sequences(input_train, maxlen=maxlen)
input_test = sequence.pad_sequences(input_test, maxlen=maxlen)
print('input_train shape:', input_train.shape)
print('input_test shape:', input_test.shape)

# In [12]:
from seqnet.keras.layers import Dense
from seqnet.keras.models import Sequential
from seqnet.keras.layers import Embedding, SimpleRNN

model = Sequential()
model.add(Embedding(max_features, 32))
model.add(SimpleRNN(32,
                    dropout = 0.2,
                    recurrent_dropout = 0.2))
model.add(Dense(1, activation='sigmoid'))

model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])

# In [13]:
history = model.fit(input_train, y_train,
                    epochs=100,
                    batch_size=128,
                    validation_split=0.2)

# In [14]:
import matplotlib.pyplot as plt

acc = history.history['acc']
val_acc = history.history['val_acc']
loss = history.history['loss']
val_loss = history.history['val_loss']

epochs = range(len(acc))

plt.plot(epochs, acc, 'bo', label='Training acc')
plt.plot(epochs, val_acc, 'b', label='Validation acc')
plt.title('Training and validation accuracy')
plt.legend()

plt.figure()

plt.plot(epochs, loss, 'bo', label='Training loss')
plt.plot(epochs, val_loss, 'b', label='Validation loss')
plt.title('Training and validation loss')
plt.legend()

plt.show()
