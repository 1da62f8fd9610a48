import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import llm.Attention;
import llm.MixtureOfExperts;
import llm.MixtureOfExperts.Expert;
import llm.MixtureOfExperts.Routing;
import org.junit.jupiter.api.Test;

class MixtureOfExpertsTest {

    static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    /** dim 2, hidden 1: expert e computes silu(x0) * x1 * (e+1) into both outputs, times (1, 2). */
    static MixtureOfExperts tiny(float[][] router, int topK) {
        Expert[] experts = new Expert[router.length];
        for (int e = 0; e < experts.length; e++)
            experts[e] = new Expert(new float[][] {{1, 0}}, new float[][] {{0, e + 1}}, new float[][] {{1}, {2}});
        return new MixtureOfExperts(router, experts, topK);
    }

    @Test
    void anExpertIsSwiGlu() {
        MixtureOfExperts moe = tiny(new float[][] {{1, 0}, {0, 1}}, 1);
        float[] y = moe.runExpert(1, new float[] {0.5f, -2f});
        double h = silu(0.5) * (-2 * 2);
        assertEquals(h, y[0], 1e-6);
        assertEquals(2 * h, y[1], 1e-6);
    }

    @Test
    void theRouterIsALinearLayerAndASoftmaxAndTopKTakesTheLikeliest() {
        // router scores for x = (1, 2): 1, 2, -1, 3
        MixtureOfExperts moe = tiny(new float[][] {{1, 0}, {0, 1}, {-1, 0}, {1, 1}}, 2);
        float[] x = {1, 2};
        assertArrayEquals(new float[] {1, 2, -1, 3}, moe.routerLogits(x), 0f);
        Routing r = moe.route(x);
        double z = Math.exp(1) + Math.exp(2) + Math.exp(-1) + Math.exp(3);
        assertEquals(Math.exp(3) / z, r.probabilities()[3], 1e-6);
        assertArrayEquals(new int[] {3, 1}, r.experts());
        // renormalised over the two chosen: e^3 / (e^3 + e^2)
        assertEquals(Math.exp(3) / (Math.exp(3) + Math.exp(2)), r.weights()[0], 1e-6);
        assertEquals(1.0, r.weights()[0] + r.weights()[1], 1e-6);
        assertEquals(3, r.top());

        float[] y = moe.forward(x);
        float[] e3 = moe.runExpert(3, x), e1 = moe.runExpert(1, x);
        for (int i = 0; i < 2; i++) assertEquals(r.weights()[0] * e3[i] + r.weights()[1] * e1[i], y[i], 1e-6);
    }

    @Test
    void topOneGivesTheChosenExpertWeightOne() {
        MixtureOfExperts moe = tiny(new float[][] {{1, 0}, {0, 1}, {-1, 0}}, 1);
        float[] x = {0.3f, 0.9f};
        Routing r = moe.route(x);
        assertArrayEquals(new int[] {1}, r.experts());
        assertArrayEquals(new float[] {1f}, r.weights(), 0f);
        assertArrayEquals(moe.runExpert(1, x), moe.forward(x), 0f);
    }

    @Test
    void withEveryExpertChosenItIsTheSoftmaxMixtureOfAll() {
        MixtureOfExperts moe = MixtureOfExperts.random(8, 16, 4, 4, 7);
        float[] x = new float[8];
        for (int i = 0; i < 8; i++) x[i] = (float) Math.sin(i + 1);
        float[] p = Attention.softmax(moe.routerLogits(x));
        float[] expected = new float[8];
        for (int e = 0; e < 4; e++) {
            float[] y = moe.runExpert(e, x);
            for (int i = 0; i < 8; i++) expected[i] += p[e] * y[i];
        }
        assertArrayEquals(expected, moe.forward(x), 1e-5f);
    }

    @Test
    void theBalanceStatisticIsOneWhenEvenAndTheExpertCountWhenOneExpertTakesAll() {
        int experts = 4;
        List<Routing> allToOne = new ArrayList<>();
        for (int t = 0; t < 10; t++) allToOne.add(new Routing(new float[] {0, 0, 1, 0}, new int[] {2}, new float[] {1}));
        MixtureOfExperts.Load collapsed = MixtureOfExperts.load(allToOne, experts);
        assertArrayEquals(new int[] {0, 0, 10, 0}, collapsed.assignments());
        assertEquals(4.0, collapsed.balance(), 1e-9);

        List<Routing> even = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            float[] p = new float[experts];
            p[t % experts] = 1;
            even.add(new Routing(p, new int[] {t % experts}, new float[] {1}));
        }
        MixtureOfExperts.Load balanced = MixtureOfExperts.load(even, experts);
        assertArrayEquals(new int[] {2, 2, 2, 2}, balanced.assignments());
        assertArrayEquals(new double[] {0.25, 0.25, 0.25, 0.25}, balanced.meanProbability(), 1e-9);
        assertEquals(1.0, balanced.balance(), 1e-9);
    }

    @Test
    void badShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> MixtureOfExperts.random(4, 8, 3, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> MixtureOfExperts.random(4, 8, 3, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> MixtureOfExperts.random(4, 8, 3, 1, 1).route(new float[5]));
        assertThrows(IllegalArgumentException.class, () -> MixtureOfExperts.load(List.of(), 3));
    }
}
