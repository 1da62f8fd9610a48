import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import llm.Attention;
import llm.Phi3;
import llm.Phi3.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import support.TestModels;
import support.TestModels.Variant;

/**
 * The observer's view of each step inside a decoder layer (what lesson 7 prints): each step's values
 * must follow from the previous ones by the operation the step names. The checks recompute each
 * operation from the reported inputs with the Attention kernels and the file's own weights; where the
 * engine does the very same float operations (residual additions, SwiGLU, RMSNorm, RoPE) the results
 * must be equal to the bit; matrix products go through the tensor kernels, compared within 1e-5
 * relative (float sums in another order).
 */
class Phi3StepsTest {

    @TempDir
    static Path dir;

    static final int[] PROMPT = {1, 300, 301, 415, 77, 350, 351, 352, 500, 290, 10, 260, 470, 471, 299, 333, 444, 511, 2, 288};

    @Test
    void everyStepFollowsFromTheOneBefore() {
        Path file = TestModels.write(dir, Variant.GQA);
        try (Phi3 model = Phi3.load(file)) {
            Phi3.Config c = model.config();
            int dim = c.embeddingLength(), kvDim = c.kvDim(), ff = c.feedForwardLength(), headSize = c.headSize();
            int position = 17; // in the second prefill batch: positions are reported correctly past the first
            Map<Step, float[]>[] steps = newStepMaps(c.blockCount());
            float[][] blockOutputs = new float[c.blockCount()][];
            float[][][] qkvAll = new float[c.blockCount()][PROMPT.length][]; // after RoPE, every position
            List<Step> order = new ArrayList<>();
            Phi3.State state = model.newState().observer(new Phi3.Observer() {
                @Override public boolean wantsSteps() { return true; }
                @Override public void step(int layer, Step step, int pos, float[] values, int offset, int length) {
                    if (step == Step.ROPE) qkvAll[layer][pos] = Arrays.copyOfRange(values, offset, offset + length);
                    if (pos == position) {
                        steps[layer].put(step, Arrays.copyOfRange(values, offset, offset + length));
                        if (layer == 0) order.add(step);
                    }
                }
                @Override public void blockOutput(int layer, int pos, float[] hidden, int offset) {
                    if (pos == position) blockOutputs[layer] = Arrays.copyOfRange(hidden, offset, offset + dim);
                }
            });
            float[][] observed = model.forwardAll(state, PROMPT);
            assertEquals(List.of(Step.values()), order, "every step once, in order");

            // Watching changes nothing (to float rounding: the Vector API kernels may add lanes in another
            // order once the JIT has compiled them, ~1e-7 of a logit, so 1e-5 of the largest one).
            float[][] plain = model.forwardAll(model.newState(), PROMPT);
            for (int t = 0; t < PROMPT.length; t++) {
                float scale = 0;
                for (float l : plain[t]) scale = Math.max(scale, Math.abs(l));
                assertArrayEquals(plain[t], observed[t], 1e-5f * scale, "position " + t);
            }

            float[] input = new float[dim];
            model.tokenEmbedding().dequantize((long) PROMPT[position] * dim, input, 0, dim);
            for (int layer = 0; layer < c.blockCount(); layer++) {
                Map<Step, float[]> s = steps[layer];
                Phi3.Block w = model.block(layer);
                assertEquals(dim, s.get(Step.INPUT_LAYERNORM).length);
                assertEquals(dim + 2 * kvDim, s.get(Step.QKV_PROJ).length);
                assertEquals(2 * ff, s.get(Step.GATE_UP_PROJ).length);
                assertEquals(ff, s.get(Step.SWIGLU).length);

                float[] norm = new float[dim];
                Attention.rmsNorm(norm, 0, input, 0, w.attnNorm(), dim, c.rmsNormEps());
                assertArrayEquals(norm, s.get(Step.INPUT_LAYERNORM), 0f, "layer " + layer + " input_layernorm");

                float[] qkv = new float[dim + 2 * kvDim];
                w.attnQkv().matVec(s.get(Step.INPUT_LAYERNORM), 0, qkv, 0, qkv.length, dim);
                assertClose(qkv, s.get(Step.QKV_PROJ), "layer " + layer + " qkv_proj");

                // RoPE turns q and k heads by the position; v is untouched.
                float[] roped = s.get(Step.QKV_PROJ).clone();
                float[] cos = new float[headSize / 2], sin = new float[headSize / 2];
                Attention.ropeAngles(position, headSize, c.ropeFreqBase(), cos, sin, 0);
                for (int h = 0; h < c.headCount() + c.headCountKv(); h++) Attention.rope(roped, h * headSize, headSize, cos, sin, 0, c.ropeStyle());
                assertArrayEquals(roped, s.get(Step.ROPE), 0f, "layer " + layer + " rope");

                // Attention over the roped q, k, v of positions 0..position, by the lessons' whole-sequence method.
                float[][] q = new float[PROMPT.length][], k = new float[PROMPT.length][], v = new float[PROMPT.length][];
                for (int t = 0; t < PROMPT.length; t++) {
                    q[t] = Arrays.copyOfRange(qkvAll[layer][t], 0, dim);
                    k[t] = Arrays.copyOfRange(qkvAll[layer][t], dim, dim + kvDim);
                    v[t] = Arrays.copyOfRange(qkvAll[layer][t], dim + kvDim, dim + 2 * kvDim);
                }
                float[][] attention = Attention.multiHeadAttention(q, k, v, c.headCount(), c.headCountKv(), true, null);
                assertArrayEquals(attention[position], s.get(Step.ATTENTION), 0f, "layer " + layer + " attention");

                float[] o = new float[dim];
                w.attnOutput().matVec(s.get(Step.ATTENTION), 0, o, 0, dim, dim);
                assertClose(o, s.get(Step.O_PROJ), "layer " + layer + " o_proj");

                float[] residual = input.clone();
                for (int i = 0; i < dim; i++) residual[i] += s.get(Step.O_PROJ)[i];
                assertArrayEquals(residual, s.get(Step.ATTENTION_RESIDUAL), 0f, "layer " + layer + " first residual");

                Attention.rmsNorm(norm, 0, residual, 0, w.ffnNorm(), dim, c.rmsNormEps());
                assertArrayEquals(norm, s.get(Step.POST_ATTENTION_LAYERNORM), 0f, "layer " + layer + " post_attention_layernorm");

                float[] gateUp = s.get(Step.GATE_UP_PROJ);
                float[] swiGlu = new float[ff];
                Attention.swiGlu(gateUp, 0, gateUp, ff, swiGlu, 0, ff);
                assertArrayEquals(swiGlu, s.get(Step.SWIGLU), 0f, "layer " + layer + " SiLU(gate) * up");

                float[] down = new float[dim];
                w.ffnDown().matVec(s.get(Step.SWIGLU), 0, down, 0, dim, ff);
                assertClose(down, s.get(Step.DOWN_PROJ), "layer " + layer + " down_proj");

                float[] output = s.get(Step.ATTENTION_RESIDUAL).clone();
                for (int i = 0; i < dim; i++) output[i] += s.get(Step.DOWN_PROJ)[i];
                assertArrayEquals(output, blockOutputs[layer], 0f, "layer " + layer + " second residual = block output");
                input = blockOutputs[layer];
            }
        }
    }

    @Test
    void withoutAnObserverThatWantsThemNoStepIsReported() {
        Path file = TestModels.write(dir, Variant.F32);
        try (Phi3 model = Phi3.load(file)) {
            int[] calls = new int[1];
            model.forward(model.newState().observer(new Phi3.Observer() {
                @Override public void step(int layer, Step step, int position, float[] values, int offset, int length) { calls[0]++; }
            }), PROMPT);
            assertEquals(0, calls[0]);
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        for (float e : expected) scale = Math.max(scale, Math.abs(e));
        for (int i = 0; i < expected.length; i++)
            assertEquals(expected[i], actual[i], 1e-5 * scale, what + " [" + i + "]");
    }

    @SuppressWarnings("unchecked")
    private static Map<Step, float[]>[] newStepMaps(int layers) {
        Map<Step, float[]>[] maps = new Map[layers];
        for (int i = 0; i < layers; i++) maps[i] = new EnumMap<>(Step.class);
        return maps;
    }
}
