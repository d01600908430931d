# From "How to Develop an Encoder-Decoder Model with Attention in Keras" (seed
# tutorial 02), section "Test Problem for Attention": generating a random
# sequence of integers.
# Changed from the tutorial: nothing (this listing imports no Keras).
from random import randint

# generate a sequence of random integers
def generate_sequence(length, n_unique):
	return [randint(0, n_unique-1) for _ in range(length)]

# generate random sequence
sequence = generate_sequence(5, 50)
print(sequence)
