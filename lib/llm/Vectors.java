package llm;

import java.util.List;

/**
 * The small vector arithmetic the lessons share: dot product, length, cosine similarity, sums and
 * means of embeddings. (Softmax, masks and attention live in {@link Attention}.)
 */
public final class Vectors {

    private Vectors() {}

    public static float dot(float[] a, float[] b) {
        requireSameLength(a, b);
        double sum = 0;
        for (int i = 0; i < a.length; i++) sum += (double) a[i] * b[i];
        return (float) sum;
    }

    /** The Euclidean length (L2 norm). */
    public static float norm(float[] a) {
        double sum = 0;
        for (float x : a) sum += (double) x * x;
        return (float) Math.sqrt(sum);
    }

    /**
     * Cosine similarity: the cosine of the angle between a and b, from -1 (opposite) through 0
     * (unrelated) to 1 (same direction), whatever their lengths. 0 when either is all zeros.
     */
    public static float cosine(float[] a, float[] b) {
        requireSameLength(a, b);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0f : (float) (dot / Math.sqrt(na * nb));
    }

    /** Cosine similarity of two count vectors (bag-of-words). */
    public static double cosine(int[] a, int[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("vectors of different lengths: " + a.length + " and " + b.length);
        long dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (long) a[i] * b[i];
            na += (long) a[i] * a[i];
            nb += (long) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt((double) na * nb);
    }

    /** A copy of a scaled to length 1 (a zero vector stays zero). */
    public static float[] normalized(float[] a) {
        float n = norm(a);
        float[] out = a.clone();
        if (n > 0) for (int i = 0; i < out.length; i++) out[i] /= n;
        return out;
    }

    /** a + b, as a new vector. */
    public static float[] add(float[] a, float[] b) {
        requireSameLength(a, b);
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] + b[i];
        return out;
    }

    /** a − b, as a new vector. */
    public static float[] subtract(float[] a, float[] b) {
        requireSameLength(a, b);
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] - b[i];
        return out;
    }

    /** s · a, as a new vector. */
    public static float[] scale(float[] a, float s) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] * s;
        return out;
    }

    /** The element-wise mean of one or more vectors of the same length (e.g. a word from its tokens). */
    public static float[] mean(List<float[]> vectors) {
        if (vectors.isEmpty()) throw new IllegalArgumentException("the mean of no vectors is undefined");
        float[] sum = new float[vectors.getFirst().length];
        for (float[] v : vectors) {
            requireSameLength(sum, v);
            for (int i = 0; i < sum.length; i++) sum[i] += v[i];
        }
        for (int i = 0; i < sum.length; i++) sum[i] /= vectors.size();
        return sum;
    }

    private static void requireSameLength(float[] a, float[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("vectors of different lengths: " + a.length + " and " + b.length);
    }
}
