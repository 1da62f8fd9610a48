//SOURCES Vectors.java
package llm;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A recurrent encoder (Elman 1990), the way sequence-to-sequence models read text before attention:
 * one word at a time, {@code h_t = tanh(W_x · x_t + W_h · h_(t-1) + b)}, starting from h = 0. The last
 * state is the "context vector" that has to carry the whole sentence to the decoder.
 *
 * <p>The weights here are random (seeded), not trained: enough to show the shape of the idea and its
 * weakness. Each step multiplies the old state by W_h and squashes it with tanh, so what the first
 * words put in fades step by step; with W_h scaled below 1 (a spectral radius of about {@code memory})
 * the fading is geometric.
 */
public final class ElmanRnn {

    private final int inputSize, hiddenSize;
    private final float[][] wx, wh;
    private final float[] bias;

    private ElmanRnn(float[][] wx, float[][] wh, float[] bias) {
        this.inputSize = wx[0].length;
        this.hiddenSize = wh.length;
        this.wx = wx;
        this.wh = wh;
        this.bias = bias;
    }

    /**
     * Random weights: W_x with standard normal entries (for an input of length 1, each unit then gets
     * about N(0, 1) from it), W_h with standard deviation memory/√hiddenSize (a random matrix's spectral
     * radius is then about {@code memory}), bias 0.
     */
    public static ElmanRnn random(int inputSize, int hiddenSize, double memory, long seed) {
        if (inputSize <= 0 || hiddenSize <= 0) throw new IllegalArgumentException("sizes must be positive");
        SplittableRandom random = new SplittableRandom(seed);
        float[][] wx = new float[hiddenSize][inputSize], wh = new float[hiddenSize][hiddenSize];
        for (float[] row : wx) for (int j = 0; j < inputSize; j++) row[j] = (float) random.nextGaussian();
        for (float[] row : wh) for (int j = 0; j < hiddenSize; j++) row[j] = (float) (random.nextGaussian() * memory / Math.sqrt(hiddenSize));
        return new ElmanRnn(wx, wh, new float[hiddenSize]);
    }

    public int hiddenSize() {
        return hiddenSize;
    }

    /** One step: the next state from the previous one and an input. */
    public float[] step(float[] previous, float[] input) {
        if (input.length != inputSize) throw new IllegalArgumentException("an input of " + input.length + " numbers; this RNN reads " + inputSize);
        float[] next = new float[hiddenSize];
        for (int i = 0; i < hiddenSize; i++) {
            double sum = bias[i];
            for (int j = 0; j < inputSize; j++) sum += wx[i][j] * input[j];
            for (int j = 0; j < hiddenSize; j++) sum += wh[i][j] * previous[j];
            next[i] = (float) Math.tanh(sum);
        }
        return next;
    }

    /** The context vector: the state after reading all inputs in order (zeros for none). */
    public float[] encode(List<float[]> inputs) {
        float[] h = new float[hiddenSize];
        for (float[] x : inputs) h = step(h, x);
        return h;
    }
}
