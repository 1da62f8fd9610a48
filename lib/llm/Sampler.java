package llm;

import java.util.Arrays;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * A decoding strategy: picks the next token from the LM head's logits. Greedy takes the argmax; otherwise
 * the logits are divided by the temperature, turned into probabilities, cut to the k most likely
 * (top-k) and then to the smallest set whose probability reaches p (top-p, the "nucleus"), and one
 * token is drawn from what is left. The order (temperature, top-k, top-p) is Hugging Face's.
 *
 * <p>Draws come from a seeded {@code L64X128MixRandom}, so the same seed gives the same ids. A sampler
 * keeps its work buffers (no allocation per token) and is therefore not thread-safe.
 */
public final class Sampler {

    private final float temperature;
    private final int topK;
    private final float topP;
    private final RandomGenerator random;
    private float[] probs = new float[0];
    private long[] order = new long[0];
    private int[] candidateIds = new int[0];
    private float[] candidateProbs = new float[0];

    private Sampler(float temperature, int topK, float topP, long seed) {
        if (!(temperature >= 0) || Float.isInfinite(temperature))
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0 (0 = off), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1] (1 = off), got " + topP);
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.random = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
    }

    /** Always the most likely token. */
    public static Sampler greedy() {
        return new Sampler(0f, 0, 1f, 0);
    }

    /**
     * Sampling with a temperature (0 = greedy), top-k (0 = off) and top-p (1 = off), drawing with the
     * given seed.
     */
    public static Sampler of(float temperature, int topK, float topP, long seed) {
        return new Sampler(temperature, topK, topP, seed);
    }

    public float temperature() { return temperature; }
    public int topK() { return topK; }
    public float topP() { return topP; }
    public boolean isGreedy() { return temperature == 0f; }

    /** The index of the largest of {@code x[off ..+n)} relative to off (the first one on ties). */
    public static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (x[off + i] > x[off + best]) best = i;
        return best;
    }

    /** The next token for these logits. */
    public int sample(float[] logits) {
        return sample(logits, 0, logits.length);
    }

    /** The next token for the logits {@code logits[off ..+n)} (ids are relative to off). */
    public int sample(float[] logits, int off, int n) {
        if (isGreedy()) return argmax(logits, off, n);
        if (candidateIds.length < n) { candidateIds = new int[n]; candidateProbs = new float[n]; }
        int count = candidates(logits, off, n, candidateIds, candidateProbs);
        double u = random.nextDouble();
        double cumulative = 0;
        for (int i = 0; i < count; i++) {
            cumulative += candidateProbs[i];
            if (u < cumulative) return candidateIds[i];
        }
        return candidateIds[count - 1]; // rounding left u just above the total
    }

    /**
     * The tokens this strategy may pick for these logits, most likely first: fills {@code ids} and
     * {@code probs} (renormalised over the allowed set, after temperature) and returns how many there are.
     * Greedy allows one token with probability 1. The arrays need room for {@code n} entries (or top-k).
     */
    public int candidates(float[] logits, int off, int n, int[] ids, float[] probs) {
        if (n <= 0) throw new IllegalArgumentException("no logits to sample from");
        if (isGreedy()) {
            ids[0] = argmax(logits, off, n);
            probs[0] = 1f;
            return 1;
        }
        if (this.probs.length < n) { this.probs = new float[n]; order = new long[n]; }
        float[] p = this.probs;
        for (int i = 0; i < n; i++) p[i] = logits[off + i] / temperature;
        Attention.softmax(p, 0, n);

        // Sort by probability: a probability's float bits order like the number (it is >= 0), so pack
        // (bits, reversed id) into a long and sort primitives; lower ids win ties.
        for (int i = 0; i < n; i++)
            order[i] = ((long) Float.floatToRawIntBits(p[i]) << 32) | (Integer.MAX_VALUE - i);
        Arrays.sort(order, 0, n);

        int kept = topK > 0 ? Math.min(topK, n) : n;
        double keptTotal = 0;
        for (int r = 0; r < kept; r++) keptTotal += p[idAt(n - 1 - r)];
        int count = 0;
        double cumulative = 0;
        while (count < kept) {
            int id = idAt(n - 1 - count);
            cumulative += p[id] / keptTotal;
            ids[count] = id;
            count++;
            if (cumulative >= topP) break; // the nucleus: smallest set reaching top-p
        }
        double total = 0;
        for (int i = 0; i < count; i++) total += p[ids[i]];
        for (int i = 0; i < count; i++) probs[i] = (float) (p[ids[i]] / total);
        return count;
    }

    private int idAt(int sortedIndex) {
        return Integer.MAX_VALUE - (int) (order[sortedIndex] & 0xFFFFFFFFL);
    }
}
