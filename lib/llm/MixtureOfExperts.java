//SOURCES Attention.java
package llm;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A Mixture-of-Experts feed-forward layer (Shazeer et al. 2017; Switch Transformer, Fedus et al. 2021;
 * Mixtral, Jiang et al. 2024). Instead of one feed-forward network there are several "experts"; a
 * router (a small linear layer + softmax) scores them for each token, only the {@code topK} best run,
 * and their outputs are mixed with the router's probabilities, renormalised over the chosen ones
 * (Mixtral's way; with top-1 the single expert gets weight 1).
 *
 * <p>Every expert is a SwiGLU network like Phi-3's and Mixtral's: {@code down(silu(gate·x) * up·x)}.
 * Matrices are {@code float[rows][cols]}, small enough for a lesson.
 */
public final class MixtureOfExperts {

    /** One expert: gate and up {@code [hidden][dim]}, down {@code [dim][hidden]}. */
    public record Expert(float[][] gate, float[][] up, float[][] down) {}

    /**
     * Where one token goes: the router's probabilities over all experts, the chosen experts (most
     * likely first) and the weights their outputs get (summing to 1).
     */
    public record Routing(float[] probabilities, int[] experts, float[] weights) {
        public int top() { return experts[0]; }
    }

    /**
     * How the tokens of a batch were spread: assignments per expert (a token counts once for each of its
     * top-k experts), the mean router probability per expert, and the Switch Transformer's balancing
     * statistic {@code experts · Σ_i f_i · P_i} (f_i = share of the assignments that went to expert i,
     * P_i = mean probability of i): 1 when the load is even, up to the number of experts when one
     * expert takes everything with certainty. Training adds a multiple of it to the loss.
     */
    public record Load(int[] assignments, double[] meanProbability, double balance) {}

    private final float[][] router; // [experts][dim]
    private final Expert[] experts;
    private final int topK;

    public MixtureOfExperts(float[][] router, Expert[] experts, int topK) {
        if (router.length != experts.length || experts.length == 0)
            throw new IllegalArgumentException("the router scores " + router.length + " experts but there are " + experts.length);
        if (topK < 1 || topK > experts.length)
            throw new IllegalArgumentException("top-k must be between 1 and " + experts.length + " (the experts), got " + topK);
        this.router = router;
        this.experts = experts;
        this.topK = topK;
    }

    /**
     * An untrained layer with Gaussian weights (std 1/√fan-in), reproducible from {@code seed}, like a
     * freshly initialised model.
     */
    public static MixtureOfExperts random(int dim, int hidden, int expertCount, int topK, long seed) {
        Random random = new Random(seed);
        float[][] router = gaussian(random, expertCount, dim);
        Expert[] experts = new Expert[expertCount];
        for (int e = 0; e < expertCount; e++)
            experts[e] = new Expert(gaussian(random, hidden, dim), gaussian(random, hidden, dim), gaussian(random, dim, hidden));
        return new MixtureOfExperts(router, experts, topK);
    }

    /** The same router and experts choosing {@code topK} experts per token. */
    public MixtureOfExperts withTopK(int topK) {
        return new MixtureOfExperts(router, experts, topK);
    }

    public int expertCount() { return experts.length; }
    public int topK() { return topK; }
    public int dim() { return router[0].length; }
    public Expert expert(int e) { return experts[e]; }

    /** The router's score for each expert: {@code router · x}. */
    public float[] routerLogits(float[] x) {
        return matVec(router, x);
    }

    /** Softmax over the router's scores, then the {@code topK} most likely experts and their renormalised weights. */
    public Routing route(float[] x) {
        float[] probabilities = Attention.softmax(routerLogits(x));
        Integer[] order = new Integer[probabilities.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(probabilities[b], probabilities[a])); // stable: lower index wins ties
        int[] chosen = new int[topK];
        float[] weights = new float[topK];
        double sum = 0;
        for (int k = 0; k < topK; k++) {
            chosen[k] = order[k];
            sum += probabilities[order[k]];
        }
        for (int k = 0; k < topK; k++) weights[k] = (float) (probabilities[chosen[k]] / sum);
        return new Routing(probabilities, chosen, weights);
    }

    /** Expert {@code e} alone on {@code x}: {@code down(silu(gate·x) * up·x)}. */
    public float[] runExpert(int e, float[] x) {
        Expert expert = experts[e];
        float[] gate = matVec(expert.gate(), x), up = matVec(expert.up(), x);
        Attention.swiGlu(gate, 0, up, 0, gate, 0, gate.length);
        return matVec(expert.down(), gate);
    }

    /** The layer's output for {@code x} routed as {@code routing}: the weighted sum of the chosen experts' outputs. */
    public float[] forward(float[] x, Routing routing) {
        float[] out = new float[dim()];
        for (int k = 0; k < routing.experts().length; k++) {
            float[] y = runExpert(routing.experts()[k], x);
            for (int i = 0; i < out.length; i++) out[i] += routing.weights()[k] * y[i];
        }
        return out;
    }

    /** Routes {@code x} and returns the layer's output. */
    public float[] forward(float[] x) {
        return forward(x, route(x));
    }

    /** The load of a batch of routings over {@code expertCount} experts (see {@link Load}). */
    public static Load load(List<Routing> routings, int expertCount) {
        if (routings.isEmpty()) throw new IllegalArgumentException("no tokens to measure the load of");
        int[] assignments = new int[expertCount];
        double[] meanProbability = new double[expertCount];
        int total = 0;
        for (Routing r : routings) {
            for (int e : r.experts()) { assignments[e]++; total++; }
            for (int e = 0; e < expertCount; e++) meanProbability[e] += r.probabilities()[e];
        }
        for (int e = 0; e < expertCount; e++) meanProbability[e] /= routings.size();
        double balance = 0;
        for (int e = 0; e < expertCount; e++) balance += (double) assignments[e] / total * meanProbability[e];
        return new Load(assignments, meanProbability, expertCount * balance);
    }

    private static float[] matVec(float[][] w, float[] x) {
        if (w[0].length != x.length) throw new IllegalArgumentException("a vector of " + x.length + " numbers for a matrix with rows of " + w[0].length);
        float[] y = new float[w.length];
        for (int r = 0; r < w.length; r++) y[r] = Attention.dot(w[r], 0, x, 0, x.length);
        return y;
    }

    private static float[][] gaussian(Random random, int rows, int cols) {
        float std = (float) (1 / Math.sqrt(cols));
        float[][] m = new float[rows][cols];
        for (float[] row : m) for (int i = 0; i < cols; i++) row[i] = (float) random.nextGaussian() * std;
        return m;
    }
}
