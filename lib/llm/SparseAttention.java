//SOURCES Attention.java
package llm;

/**
 * Sparse attention patterns: which keys each query may look at, so that only those scores are
 * computed. Full causal attention costs n(n+1)/2 scores; these patterns grow like n·w or n·√n.
 *
 * <ul>
 *   <li>local (sliding window, as in Longformer and Mistral): the last {@code window} positions;</li>
 *   <li>strided (Child et al. 2019): the previous {@code l} positions, plus every l-th one before them;</li>
 *   <li>fixed (Child et al. 2019): the query's own block of {@code l} positions, plus the last {@code c}
 *       positions of every block, which act as summaries the later blocks can read.</li>
 * </ul>
 *
 * A mask is {@code boolean[query][key]}, true where the score is computed. All patterns here are causal.
 * {@link #additive} turns one into the 0 / -∞ mask that {@link Attention#scaledDotProductAttention} adds.
 */
public final class SparseAttention {

    private SparseAttention() {}

    /** Every earlier position and itself: the dense causal mask the others are compared with. */
    public static boolean[][] causal(int n) {
        boolean[][] mask = new boolean[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) mask[i][j] = true;
        return mask;
    }

    /** Sliding window: query i sees keys i-window+1 .. i. */
    public static boolean[][] local(int n, int window) {
        if (window < 1) throw new IllegalArgumentException("the window must hold at least 1 position, got " + window);
        boolean[][] mask = new boolean[n][n];
        for (int i = 0; i < n; i++) for (int j = Math.max(0, i - window + 1); j <= i; j++) mask[i][j] = true;
        return mask;
    }

    /**
     * Strided (Child et al. 2019, two heads merged into one mask): query i sees keys i-l .. i (the
     * paper's A(1)) and every key j with (i - j) mod l = 0 (A(2)).
     */
    public static boolean[][] strided(int n, int stride) {
        if (stride < 1) throw new IllegalArgumentException("the stride must be at least 1, got " + stride);
        boolean[][] mask = new boolean[n][n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) mask[i][j] = i - j <= stride || (i - j) % stride == 0;
        return mask;
    }

    /**
     * Fixed (Child et al. 2019, two heads merged): query i sees keys in its own block of {@code block}
     * positions (floor(j/l) = floor(i/l), A(1)) and the last {@code summary} positions of every block
     * (j mod l >= l - c, A(2)); causal.
     */
    public static boolean[][] fixed(int n, int block, int summary) {
        if (block < 1 || summary < 1 || summary > block)
            throw new IllegalArgumentException("fixed pattern needs 1 <= summary (" + summary + ") <= block (" + block + ")");
        boolean[][] mask = new boolean[n][n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) mask[i][j] = j / block == i / block || j % block >= block - summary;
        return mask;
    }

    /** How many scores a mask computes. */
    public static long computed(boolean[][] mask) {
        long count = 0;
        for (boolean[] row : mask) for (boolean b : row) if (b) count++;
        return count;
    }

    /** The share of the dense causal scores, n(n+1)/2, that a mask computes. */
    public static double shareOfCausal(boolean[][] mask) {
        long n = mask.length;
        return computed(mask) / (n * (n + 1) / 2.0);
    }

    /** The additive form: 0 where a query may look, -∞ elsewhere. */
    public static float[][] additive(boolean[][] mask) {
        float[][] out = new float[mask.length][];
        for (int i = 0; i < mask.length; i++) {
            out[i] = new float[mask[i].length];
            for (int j = 0; j < mask[i].length; j++) out[i][j] = mask[i][j] ? 0f : Float.NEGATIVE_INFINITY;
        }
        return out;
    }
}
