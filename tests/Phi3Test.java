import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import llm.Generation;
import llm.GgufException;
import llm.Phi3;
import llm.Sampler;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import support.ReferencePhi3;
import support.TestModels;
import support.TestModels.Variant;

/**
 * The Phi-3 engine against support.ReferencePhi3, a slow reference written separately (double precision,
 * no KV cache, its own RoPE/softmax/attention) that runs on the same dequantized weights.
 *
 * <p>Tolerances: logits agree within 1e-4 of the largest |logit| of their row. The engine computes in
 * float with the same dequantized weight values, so what differs is float rounding over sums of a few
 * hundred products (~1e-6 relative); 1e-4 leaves room for that and still catches any real mistake
 * (a wrong RoPE pairing, scale or head mapping moves logits by 1e-2 or more).
 */
class Phi3Test {

    @TempDir
    static Path dir;
    static final Map<Variant, Path> files = new EnumMap<>(Variant.class);
    static final Map<Variant, ReferencePhi3> references = new EnumMap<>(Variant.class);

    static ReferencePhi3 reference(Variant v) {
        return references.computeIfAbsent(v, x -> ReferencePhi3.load(files.get(x)));
    }

    /** A prompt of 23 tokens: BOS, some word pieces, a few byte tokens and letters. */
    static final int[] PROMPT = {1, 300, 301, 415, 77, 350, 351, 352, 500, 290, 10, 260, 470, 471, 299, 333, 444, 511, 2, 288, 289, 400, 401};

    @BeforeAll
    static void writeModels() {
        for (Variant v : Variant.values()) files.put(v, TestModels.shared(v));
    }

    static void assertLogitsClose(double[] expected, float[] actual, double relative, String what) {
        assertEquals(expected.length, actual.length, what + ": vocabulary size");
        double scale = 0;
        for (double e : expected) scale = Math.max(scale, Math.abs(e));
        for (int i = 0; i < expected.length; i++)
            if (Math.abs(expected[i] - actual[i]) > relative * scale)
                fail(what + ": logit " + i + " is " + actual[i] + ", reference " + expected[i] + " (allowed " + relative * scale + ")");
    }

    static void assertMatchesReference(Variant v, int[] prompt) {
        ReferencePhi3 reference = reference(v);
        double[][] expected = reference.logits(prompt);
        try (Phi3 model = Phi3.load(files.get(v))) {
            float[][] logits = model.forwardAll(model.newState(), prompt);
            for (int t = 0; t < prompt.length; t++) assertLogitsClose(expected[t], logits[t], 1e-4, v + " position " + t);
        }
    }

    @Test
    void f32LogitsEqualTheReferenceAtEveryPosition() {
        assertMatchesReference(Variant.F32, PROMPT);
    }

    @Test
    void configComesFromThePhi3Metadata() {
        try (Phi3 model = Phi3.load(files.get(Variant.GQA))) {
            Phi3.Config c = model.config();
            assertEquals("phi3", c.architecture());
            assertEquals(TestModels.CONTEXT, c.contextLength());
            assertEquals(64, c.embeddingLength());
            assertEquals(TestModels.BLOCKS, c.blockCount());
            assertEquals(4, c.headCount());
            assertEquals(2, c.headCountKv());
            assertEquals(16, c.headSize());
            assertEquals(32, c.kvDim());
            assertEquals(256, c.feedForwardLength());
            assertEquals(TestModels.RMS_EPS, c.rmsNormEps());
            assertEquals(TestModels.ROPE_BASE, c.ropeFreqBase());
            assertEquals(16, c.ropeDimensionCount());
            assertEquals(TestModels.VOCAB, c.vocabSize());
            assertEquals(llm.Attention.RopeStyle.NEOX, c.ropeStyle());
            assertNotNull(model.block(0).attnQkv(), "fused qkv");
            assertNull(model.block(0).ffnGate(), "fused gate_up");
        }
        try (Phi3 model = Phi3.load(files.get(Variant.LLAMA))) {
            assertEquals(llm.Attention.RopeStyle.NORM, model.config().ropeStyle());
            assertNull(model.block(1).attnQkv());
            assertNotNull(model.block(1).ffnGate());
        }
    }

    @Test
    void groupedQueryAttentionFileMatchesTheReference() {
        assertMatchesReference(Variant.GQA, PROMPT);
    }

    @Test
    void llamaStyleFileWithSplitWeightsAndNormRopeMatchesTheReference() {
        assertMatchesReference(Variant.LLAMA, PROMPT);
    }

    @Test
    void tiedOutputFallsBackToTheTokenEmbedding() {
        Path file = TestModels.builder(Variant.F32).tiedOutput().write(dir.resolve("tied.gguf"));
        ReferencePhi3 reference = ReferencePhi3.load(file);
        try (Phi3 model = Phi3.load(file)) {
            assertSame(model.tokenEmbedding(), model.output());
            float[][] logits = model.forwardAll(model.newState(), PROMPT);
            double[][] expected = reference.logits(PROMPT);
            for (int t = 0; t < PROMPT.length; t++) assertLogitsClose(expected[t], logits[t], 1e-4, "tied, position " + t);
        }
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void logitsOfEveryTypeEqualTheReferenceOnTheSameDequantizedWeights(Variant v) {
        assertMatchesReference(v, java.util.Arrays.copyOf(PROMPT, 9));
    }

    @Test
    void hiddenStatesAreWhatTheLmHeadSees() {
        ReferencePhi3 reference = reference(Variant.F32);
        double[][] expected = reference.hidden(PROMPT);
        try (Phi3 model = Phi3.load(files.get(Variant.F32))) {
            float[][] hidden = model.hiddenStates(model.newState(), PROMPT);
            assertEquals(PROMPT.length, hidden.length);
            for (int t = 0; t < PROMPT.length; t++) {
                assertEquals(64, hidden[t].length);
                for (int i = 0; i < 64; i++) assertEquals(expected[t][i], hidden[t][i], 1e-4 * 4, "position " + t + " element " + i);
            }
        }
    }

    @Test
    void cachedAndUncachedRunsAgree() {
        try (Phi3 model = Phi3.load(files.get(Variant.F32))) {
            Phi3.State cached = model.newState();
            for (int t = 0; t < PROMPT.length; t++) {
                float[] step = model.forward(cached, PROMPT[t]).clone();
                // without a cache: the whole prefix from scratch
                float[] fresh = model.forward(model.newState(), java.util.Arrays.copyOf(PROMPT, t + 1));
                // The same float operations: only the order in which the JIT-compiled Vector API kernels add
                // lanes can change the last bit, so 1e-6.
                assertLogitsClose(toDouble(fresh), step, 1e-6, "position " + t);
            }
            assertEquals(PROMPT.length, cached.position());
        }
    }

    @Test
    void batchedPrefillEqualsOneTokenAtATime() {
        int[] prompt = new int[40]; // more than two prefill batches of 16
        for (int i = 0; i < prompt.length; i++) prompt[i] = TestModels.word(i * 13);
        try (Phi3 model = Phi3.load(files.get(Variant.GQA))) {
            float[][] batched = model.forwardAll(model.newState(), prompt);
            Phi3.State state = model.newState(64);
            for (int t = 0; t < prompt.length; t++) {
                float[] single = model.forward(state, prompt[t]);
                assertLogitsClose(toDouble(batched[t]), single, 1e-6, "position " + t);
            }
            // and a prefill that continues an existing cache
            Phi3.State split = model.newState();
            model.forward(split, prompt, 0, 10);
            float[] last = model.forward(split, prompt, 10, 30);
            assertLogitsClose(toDouble(batched[39]), last, 1e-6, "prefill in two parts");
        }
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void greedyGenerationEqualsTheReferenceFor32Tokens(Variant v) {
        int[] prompt = {1, 300, 77, 444, 290, 10, 350};
        int[] expected = reference(v).greedy(prompt, 32);
        try (Phi3 model = Phi3.load(files.get(v))) {
            Generation.Result result = new Generation(model).sampler(Sampler.greedy()).maxNewTokens(32).generate(prompt);
            assertArrayEquals(expected, result.ids(), v + ": " + java.util.Arrays.toString(result.ids()));
            assertEquals(Generation.StopReason.MAX_TOKENS, result.stopReason());
        }
    }

    @Test
    void observerSeesEveryBlockAndTheAttentionWeights() {
        try (Phi3 model = Phi3.load(files.get(Variant.GQA))) {
            int dim = model.config().embeddingLength();
            List<float[]> lastBlock = new ArrayList<>();
            int[] blockCalls = new int[1];
            double[][] attentionSums = new double[TestModels.BLOCKS * 4][PROMPT.length];
            Phi3.State state = model.newState().observer(new Phi3.Observer() {
                @Override public void blockOutput(int layer, int position, float[] hidden, int offset) {
                    blockCalls[0]++;
                    if (layer == TestModels.BLOCKS - 1) lastBlock.add(java.util.Arrays.copyOfRange(hidden, offset, offset + dim));
                }
                @Override public boolean wantsAttention() { return true; }
                @Override public void attention(int layer, int head, int position, float[] probs, int offset, int length) {
                    assertEquals(position + 1, length, "a query sees itself and the past (causal)");
                    double sum = 0;
                    for (int i = 0; i < length; i++) sum += probs[offset + i];
                    attentionSums[layer * 4 + head][position] = sum;
                }
            });
            float[][] logits = model.forwardAll(state, PROMPT);
            assertEquals(TestModels.BLOCKS * PROMPT.length, blockCalls[0]);
            for (double[] head : attentionSums) for (double sum : head) assertEquals(1.0, sum, 1e-5);
            // logit lens on the last block gives the model's logits (the same operations; 1e-6 because
            // the Vector API may sum a dot product's lanes in another order once the JIT compiles it)
            float[] hidden = new float[dim], lens = new float[TestModels.VOCAB];
            for (int t = 0; t < PROMPT.length; t++) {
                model.finalNorm(lastBlock.get(t), 0, hidden, 0);
                model.lmHead(hidden, 0, lens, 0);
                assertLogitsClose(toDouble(logits[t]), lens, 1e-6, "position " + t);
            }
        }
    }

    @Test
    void theKvCacheCanBeTruncatedAndReset() {
        try (Phi3 model = Phi3.load(files.get(Variant.F32))) {
            Phi3.State state = model.newState(32);
            float[] all = model.forward(state, PROMPT).clone();
            state.truncate(5);
            assertEquals(5, state.position());
            float[] again = model.forward(state, PROMPT, 5, PROMPT.length - 5);
            assertLogitsClose(toDouble(all), again, 1e-6, "after truncating to 5");
            state.reset();
            assertEquals(0, state.position());
            assertLogitsClose(toDouble(all), model.forward(state, PROMPT), 1e-6, "after a reset");
            assertThrows(IllegalArgumentException.class, () -> state.truncate(PROMPT.length + 1));
        }
    }

    static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }

    // ---------------------------------------------------------------------------------------------
    // Clear errors

    @Test
    void anotherArchitectureIsRefused() {
        Path file = TestModels.builder(Variant.F32).architecture("gemma").write(dir.resolve("gemma.gguf"));
        GgufException e = assertThrows(GgufException.class, () -> Phi3.load(file));
        assertEquals("gemma.gguf: general.architecture is 'gemma', but this engine runs only phi3 (or llama-style Phi-3) models", e.getMessage());
    }

    @Test
    void aMissingTensorIsNamed() {
        Path file = TestModels.builder(Variant.F32).without("blk.1.ffn_down.weight").write(dir.resolve("missing.gguf"));
        GgufException e = assertThrows(GgufException.class, () -> Phi3.load(file));
        assertEquals("missing.gguf: tensor 'blk.1.ffn_down.weight' not found", e.getMessage());
    }

    @Test
    void aWrongShapeIsNamedWithTheExpectedOne() {
        Path file = TestModels.builder(Variant.F32).reshape("blk.0.attn_output.weight", 64, 32).write(dir.resolve("shape.gguf"));
        GgufException e = assertThrows(GgufException.class, () -> Phi3.load(file));
        assertEquals("shape.gguf: tensor 'blk.0.attn_output.weight' has shape [64, 32], expected [64, 64]", e.getMessage());

        Path qkv = TestModels.builder(Variant.GQA).reshape("blk.1.attn_qkv.weight", 64, 192).write(dir.resolve("qkv.gguf"));
        e = assertThrows(GgufException.class, () -> Phi3.load(qkv));
        assertEquals("qkv.gguf: tensor 'blk.1.attn_qkv.weight' has shape [64, 192], expected [64, 128]", e.getMessage());
    }

    @Test
    void aPromptLongerThanTheContextIsRefused() {
        int[] tooLong = new int[TestModels.CONTEXT + 1];
        java.util.Arrays.fill(tooLong, 300);
        try (Phi3 model = Phi3.load(files.get(Variant.F32))) {
            Phi3.State state = model.newState();
            var e = assertThrows(Phi3.ContextOverflowException.class, () -> model.forward(state, tooLong));
            assertEquals("129 tokens do not fit: 0 already cached + 129 > the context length 128", e.getMessage());
            assertEquals(0, state.position(), "a refused prompt leaves the state as it was");

            var g = assertThrows(Phi3.ContextOverflowException.class, () -> new Generation(model).generate(tooLong));
            assertEquals("the prompt has 129 tokens, more than the context length 128", g.getMessage());

            var id = assertThrows(IllegalArgumentException.class, () -> model.forward(state, 1, 512));
            assertEquals("token id 512 is outside the vocabulary (0..511)", id.getMessage());
        }
    }
}
