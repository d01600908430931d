# From "How to Develop an Encoder-Decoder Model for Sequence-to-Sequence
# Prediction in Keras" (seed tutorial 02), section "Scalable
# Sequence-to-Sequence Problem": the complete worked example that generates
# and decodes one source/target pair.
# Changed from the tutorial: the imports (keras -> seqnet.keras), and
# to_categorical([source], ...) -> to_categorical(source, ...) in get_dataset
# (three calls): the tutorial relied on Keras 2.0's to_categorical, which
# flattened its input; since Keras 2.1 (and in seqnet) the result keeps the
# input's shape, so the brackets would add an axis and the listing fails
# on current Keras too.
from random import randint
from numpy import array
from numpy import argmax
from seqnet.keras.utils import to_categorical

# generate a sequence of random integers
def generate_sequence(length, n_unique):
	return [randint(1, n_unique-1) for _ in range(length)]

# prepare data for the LSTM
def get_dataset(n_in, n_out, cardinality, n_samples):
	X1, X2, y = list(), list(), list()
	for _ in range(n_samples):
		# generate source sequence
		source = generate_sequence(n_in, cardinality)
		# define target sequence
		target = source[:n_out]
		target.reverse()
		# create padded input target sequence
		target_in = [0] + target[:-1]
		# encode
		src_encoded = to_categorical(source, num_classes=cardinality)
		tar_encoded = to_categorical(target, num_classes=cardinality)
		tar2_encoded = to_categorical(target_in, num_classes=cardinality)
		# store
		X1.append(src_encoded)
		X2.append(tar2_encoded)
		y.append(tar_encoded)
	return array(X1), array(X2), array(y)

# decode a one hot encoded string
def one_hot_decode(encoded_seq):
	return [argmax(vector) for vector in encoded_seq]

# configure problem
n_features = 50 + 1
n_steps_in = 6
n_steps_out = 3
# generate a single source and target sequence
X1, X2, y = get_dataset(n_steps_in, n_steps_out, n_features, 1)
print(X1.shape, X2.shape, y.shape)
print('X1=%s, X2=%s, y=%s' % (one_hot_decode(X1[0]), one_hot_decode(X2[0]), one_hot_decode(y[0])))
